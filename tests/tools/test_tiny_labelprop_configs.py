"""The synthetic label-propagation configs test the tiny SMTC's encoder:
same architecture, its training input size, its checkpoints load."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmsmtc.registry import MODELS
from mmsmtc.utils import register_all_modules
from mmsmtc.utils.checkpoint import CheckpointError

register_all_modules()

ROOT = Path(__file__).resolve().parents[2]
LABELPROP = sorted((ROOT / 'configs' / 'smtc_test').glob(
    'labelprop_vit-tiny_synthetic-*.py'))
(TRAIN_CONFIG, ) = (ROOT / 'configs' / 'smtc').glob(
    'smtc_vit-tiny_*_synthetic-*.py')
DISCOVERY = (ROOT / 'configs' / 'smtc_test' /
             'discovery_smtc-vit-tiny_synthetic-davis17-unsup.py')
#: Backbone settings label propagation sets itself (read-out, no init).
OWN_SETTINGS = ('out_types', 'final_norm', 'drop_path_rate', 'init_cfg')


def training_input_size(cfg):
    (resize, ) = [step for step in cfg.train_dataloader.dataset.pipeline
                  if step['type'] == 'ClipResize']
    return tuple(resize['size'])


def test_three_configs_are_found():
    assert [path.name for path in LABELPROP] == [
        'labelprop_vit-tiny_synthetic-davis17-semi.py',
        'labelprop_vit-tiny_synthetic-jhmdb.py',
        'labelprop_vit-tiny_synthetic-vip.py'
    ]


@pytest.mark.parametrize('path', LABELPROP, ids=lambda path: path.name)
def test_encoder_is_the_tiny_smtc_backbone(path):
    model = Config.fromfile(path).model
    smtc = Config.fromfile(TRAIN_CONFIG).model
    backbone = model.propagator.backbone
    assert {k: v for k, v in backbone.items() if k not in OWN_SETTINGS} == \
        {k: v for k, v in smtc.backbone.items() if k not in OWN_SETTINGS}
    assert tuple(backbone.out_types) == ('tokens', )
    assert backbone.final_norm is False
    assert model.stride == smtc.backbone.arch.patch_size
    assert model.get('checkpoint_prefix') is None  # the default, below


@pytest.mark.parametrize('path', LABELPROP, ids=lambda path: path.name)
def test_input_size_is_the_training_and_discovery_size(path):
    size = tuple(Config.fromfile(path).model.input_size)
    assert size == training_input_size(Config.fromfile(TRAIN_CONFIG))
    assert size == tuple(Config.fromfile(DISCOVERY).model.input_size)


def smtc_checkpoint(tmp_path, seed):
    """A checkpoint of a freshly built tiny SMTC, as tools/train.py saves."""
    torch.manual_seed(seed)
    smtc = MODELS.build(Config.fromfile(TRAIN_CONFIG).model)
    path = tmp_path / f'smtc_{seed}.pth'
    torch.save(dict(state_dict=smtc.state_dict(), meta=dict()), path)
    return path, smtc


@pytest.mark.parametrize('path', LABELPROP, ids=lambda path: path.name)
def test_smtc_checkpoint_loads_its_student_encoder(path, tmp_path):
    checkpoint, smtc = smtc_checkpoint(tmp_path, seed=1)
    segmentor = MODELS.build(Config.fromfile(path).model)
    encoder = segmentor.propagator.backbone
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    segmentor.load_test_checkpoint(str(checkpoint))
    loaded = encoder.state_dict()
    assert loaded.keys() == smtc.backbone.state_dict().keys()
    for key, value in smtc.backbone.state_dict().items():
        assert torch.equal(loaded[key], value), key
    assert any(not torch.equal(before[key], loaded[key]) for key in before)


def test_features_are_the_last_block_tokens_at_the_training_size(tmp_path):
    cfg = Config.fromfile(LABELPROP[0])
    segmentor = MODELS.build(cfg.model).eval()
    height, width = cfg.model.input_size
    (tokens, ) = segmentor.propagator.backbone(
        torch.randn(1, 3, height, width))
    stride = cfg.model.stride
    assert tokens.shape == (1, segmentor.propagator.backbone.embed_dim,
                            height // stride, width // stride)


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    cfg = Config.fromfile(LABELPROP[0])
    other = dict(cfg.model.propagator.backbone,
                 arch=dict(cfg.model.propagator.backbone.arch,
                           embed_dim=2 * cfg.model.propagator.backbone.arch[
                               'embed_dim']))
    encoder = MODELS.build(other)
    checkpoint = tmp_path / 'wide.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v
                                for k, v in encoder.state_dict().items()}),
               checkpoint)
    segmentor = MODELS.build(cfg.model)
    with pytest.raises(CheckpointError, match='shape mismatch'):
        segmentor.load_test_checkpoint(str(checkpoint))
