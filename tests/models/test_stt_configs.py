"""Spa-then-Temp's training configs (step 1: configs/moco, step 2:
configs/stt) and its tiny synthetic test configs build without weight
files; the step-2 schedule is mmcv's cosine with linear warm-up."""
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmsmtc.registry import MODELS, PARAM_SCHEDULERS
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()
CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
TRAIN_CONFIGS = sorted((CONFIGS / 'stt').glob('*.py')) + sorted(
    (CONFIGS / 'moco').glob('*.py'))
TEST_CONFIGS = sorted((CONFIGS / 'stt_synthetic_test').glob('*.py'))


def test_configs_are_found():
    names = {path.name for path in TRAIN_CONFIGS}
    assert {'stt_r18-s8_4xb16-44k_ytvos-256x256.py',
            'stt_r50-s8_4xb16-44k_ytvos-256x256.py',
            'moco-v2_r50_8xb32-200e_in1k-224x224.py'} <= names
    assert len(TEST_CONFIGS) == 3


@pytest.mark.parametrize('path', TRAIN_CONFIGS + TEST_CONFIGS,
                         ids=lambda p: p.name)
def test_config_builds_model_without_weight_files(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_official_step2_settings():
    cfg = Config.fromfile(CONFIGS / 'stt' /
                          'stt_r50-s8_4xb16-44k_ytvos-256x256.py')
    model = MODELS.build(cfg.model)
    assert model.backbone.strides == (2, 4, 8, 32)
    assert model.teacher_backbone.strides[-1] == 32
    assert model.radius == (12, 6) and model.downsample_rate == (4, 8)
    assert [loss.loss_weight for loss in model.losses] == [1, 1, 1000, 50]
    assert cfg.train_dataloader.batch_size == 16
    assert cfg.sync_bn == 'torch'
    r18 = Config.fromfile(CONFIGS / 'stt' /
                          'stt_r18-s8_4xb16-44k_ytvos-256x256.py')
    assert r18.model.backbone.depth == 18
    assert r18.model.teacher_backbone.depth == 50


def test_tiny_step2_runs_a_pair_at_its_size():
    (path, ) = (CONFIGS / 'stt').glob('*synthetic*.py')
    cfg = Config.fromfile(path)
    cfg.model.backbone.init_cfg = None
    cfg.model.teacher_backbone.init_cfg = None
    model = MODELS.build(cfg.model).train()
    size = cfg.train_pipeline[1]['size']
    pair = torch.randint(0, 256, (2, 2, 3, *size), dtype=torch.uint8)
    inputs = model.data_preprocessor(dict(inputs=pair), True)['inputs']
    losses = model(inputs, mode='loss')
    assert all(math.isfinite(float(v.detach())) for v in losses.values())


def mmcv_lr(base, step, total, warmup, ratio=0.001, min_ratio=0.001):
    """mmcv CosineAnnealingLrUpdaterHook(by_epoch=False) with linear
    warm-up: the cosine value times 1 - (1 - it / warmup)(1 - ratio)."""
    target = base * min_ratio
    cosine = 1 + math.cos(math.pi * step / total)
    lr = target + 0.5 * (base - target) * cosine
    if step < warmup:
        lr *= 1 - (1 - step / warmup) * (1 - ratio)
    return lr


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step')
def test_step2_schedule_is_mmcv_cosine_with_warmup():
    cfg = Config.fromfile(CONFIGS / 'stt' /
                          'stt_r18-s8_4xb16-44k_ytvos-256x256.py')
    optim_wrapper = build_optim_wrapper(torch.nn.Linear(1, 1),
                                        cfg.optim_wrapper)
    schedulers = [
        PARAM_SCHEDULERS.build(dict(scheduler),
                               default_args=dict(optimizer=optim_wrapper))
        for scheduler in cfg.param_scheduler
    ]
    total, warmup = cfg.train_cfg.max_iters, 1100
    group = optim_wrapper.optimizer.param_groups[0]
    for step in range(total):
        assert group['lr'] == pytest.approx(
            mmcv_lr(5e-5, step, total, warmup), rel=1e-5), step
        for scheduler in schedulers:
            scheduler.step()
