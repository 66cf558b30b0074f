"""Every SMTC config builds its model and optimiser on CPU."""
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmsmtc.registry import MODELS, PARAM_SCHEDULERS
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / 'smtc'
CONFIGS = sorted(CONFIG_DIR.glob('*.py'))


def test_configs_are_found():
    assert len(CONFIGS) >= 3


@pytest.mark.parametrize('path', CONFIGS, ids=lambda path: path.name)
def test_config_builds_model_and_optimizer(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    assert model.neck.in_channels == model.head.in_channels
    assert model.frozen_backbone_iters == \
        cfg.model.frozen_backbone_iters > 0
    assert model.teacher.frozen_parts == ('backbone', )
    assert [loss.loss_name for loss in model.losses] == [
        'loss_semantic', 'loss_instance', 'loss_diversity'
    ]
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    groups = {g['name']: g for g in optim_wrapper.optimizer.param_groups}
    assert set(groups) == {
        'backbone_decay', 'backbone_no_decay', 'decay', 'no_decay'
    }
    mult = cfg.optim_wrapper.paramwise_cfg.backbone_lr_mult
    assert groups['backbone_decay']['lr'] == pytest.approx(
        groups['decay']['lr'] * mult)


def test_tiny_config_runs_a_clip_at_its_size():
    cfg = Config.fromfile(CONFIG_DIR /
                          'smtc_vit-tiny_1xb4-1500_synthetic-64x112.py')
    model = MODELS.build(cfg.model)
    out = model(torch.randn(1, 4, 3, 64, 112))
    assert out['semantic_logits'].shape == (1, 4, 6, 8 * 14)
    assert out['instance_embeddings'].shape == (1, 4, 6, 2, 64)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda path: path.name)
def test_photometric_augmentation_is_drawn_once_per_branch(path):
    cfg = Config.fromfile(path)
    assert cfg.model.view_augment.type == 'ClipPhotometricAugment'
    pipeline = [step['type'] for step in cfg.train_dataloader.dataset.pipeline]
    assert pipeline == ['LoadClipFrames', 'ClipResize', 'PackClipInputs']


@pytest.mark.filterwarnings('ignore:Detected call of `scheduler.step')
def test_schedule_is_the_official_cosine_per_group():
    cfg = Config.fromfile(CONFIG_DIR /
                          'smtc_vit-s16_4xb32-10k_ytvos-256x256.py')
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    scheduler_cfg = dict(cfg.param_scheduler[0])
    scheduler = PARAM_SCHEDULERS.build(
        scheduler_cfg, default_args=dict(optimizer=optim_wrapper))
    total = cfg.train_cfg.max_iters
    bases = [group['lr'] for group in optim_wrapper.optimizer.param_groups]
    for step in range(total):
        if step in (0, 1, 2500, 5000, total - 1):
            for base, group in zip(bases,
                                   optim_wrapper.optimizer.param_groups):
                # official cosine_scheduler(lr, 0.1 * lr, ...)[step]
                expected = 0.1 * base + 0.5 * 0.9 * base * (
                    1 + math.cos(math.pi * step / total))
                assert group['lr'] == pytest.approx(expected, rel=1e-6)
        scheduler.step()
