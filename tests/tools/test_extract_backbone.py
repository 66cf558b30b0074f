"""tools/model_converters/extract_backbone.py: a backbone of an mmsmtc
checkpoint -> a weight file that the tiny VideoSAUR / BbA configs' ViT loads
strictly through its init_cfg."""
import importlib.util
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmsmtc.registry import MODELS
from mmsmtc.utils import register_all_modules
from mmsmtc.utils.checkpoint import CheckpointError

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'model_converters' / 'extract_backbone.py'
spec = importlib.util.spec_from_file_location('extract_backbone', TOOL)
converter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(converter)
SMTC = ROOT / 'configs/smtc/smtc_vit-tiny_1xb4-1500_synthetic-64x112.py'
#: Configs whose encoder is the tiny SMTC's ViT.
CONSUMERS = ('configs/bba/bba_vit-tiny_1xb4-1k_synthetic-64x112.py', )

register_all_modules()


def build_model(config):
    cfg = Config.fromfile(str(config))
    cfg.model.backbone.pop('init_cfg', None)
    return MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def smtc_checkpoint(tmp_path_factory):
    """An MMEngine-style checkpoint of the tiny SMTC whose student and
    teacher backbones differ."""
    torch.manual_seed(0)
    model = build_model(SMTC)
    state = model.state_dict()
    for key in state:
        if key.startswith('backbone.'):
            state[key] = torch.randn_like(state[key].float())
    path = tmp_path_factory.mktemp('smtc') / 'iter_9.pth'
    torch.save(dict(meta=dict(iter=9), state_dict=state), path)
    return path, state


@pytest.mark.parametrize('consumer', CONSUMERS)
def test_student_loads_strictly_into_the_consumer(smtc_checkpoint, consumer,
                                                  tmp_path):
    src, state = smtc_checkpoint
    dst = tmp_path / 'backbone.pth'
    assert converter.main([str(src), str(dst), '--config',
                           str(ROOT / consumer)]) == 0
    cfg = Config.fromfile(str(ROOT / consumer))
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(dst),
                                       strict=True)
    model = MODELS.build(cfg.model)
    model.init_weights()
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, state[f'backbone.{key}']), key


def test_teacher_part_is_another_network(smtc_checkpoint, tmp_path):
    src, state = smtc_checkpoint
    weights = converter.convert(src, tmp_path / 'teacher.pth',
                                part='teacher.backbone')
    assert torch.equal(weights['cls_token'],
                       state['teacher.backbone.cls_token'])
    assert not torch.equal(weights['cls_token'], state['backbone.cls_token'])
    assert torch.load(tmp_path / 'teacher.pth').keys() == weights.keys()


def test_missing_part_names_the_backbones_it_has(smtc_checkpoint, tmp_path,
                                                 capsys):
    src, _ = smtc_checkpoint
    assert converter.main([str(src), str(tmp_path / 'x.pth'), '--part',
                           'encoder']) == 1
    error = capsys.readouterr().err
    assert "has no module 'encoder'" in error
    assert "['backbone', 'teacher.backbone']" in error
    assert not (tmp_path / 'x.pth').exists()


def test_architecture_mismatch_is_refused_before_writing(tmp_path):
    cfg = Config.fromfile(str(SMTC))
    cfg.model.backbone.arch.embed_dim = 32
    cfg.model.backbone.arch.num_heads = 1
    cfg.model.neck.in_channels = 32
    cfg.model.head.in_channels = 32
    model = MODELS.build(cfg.model)
    src = tmp_path / 'narrow.pth'
    torch.save(dict(state_dict=model.state_dict()), src)
    with pytest.raises(CheckpointError, match=r'does not fit the backbone '
                       r'of .*wrong shapes .*attn.proj.bias \(32,\) '
                       r'\(expected \(64,\)\)'):
        converter.convert(src, tmp_path / 'out.pth',
                          config=ROOT / CONSUMERS[0])
    assert not (tmp_path / 'out.pth').exists()


def test_unreadable_source_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / 'bad.pth'
    bad.write_text('not a checkpoint')
    assert converter.main([str(bad), str(tmp_path / 'out.pth')]) == 1
    assert 'is not a readable PyTorch checkpoint' in capsys.readouterr().err
    assert converter.main([str(tmp_path / 'none.pth'),
                           str(tmp_path / 'out.pth')]) == 1
    assert 'does not exist' in capsys.readouterr().err
