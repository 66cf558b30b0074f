"""configs/stt_test carry Spa-then-Temp's test protocol (official
``configs/test/res{18,50}_d{8,4}.py`` and ``VanillaTracker``)."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmsmtc.registry import MODELS
from mmsmtc.utils import register_all_modules

register_all_modules()
STT_DIR = Path(__file__).resolve().parents[2] / 'configs' / 'stt_test'
#: benchmark -> (neighbor_range at stride 8, at stride 4) of the official
#: test configs; the window half-size is neighbor_range // 2.
NEIGHBOR_RANGE = {
    'davis17-semi': (24, 70),
    'jhmdb-320x320': (10, 24),
    'vip-560x560': (32, 70),
}
LEAVES = [(depth, stride, benchmark) for depth in (18, 50)
          for stride in (8, 4) for benchmark in NEIGHBOR_RANGE]


def load(depth, stride, benchmark):
    return Config.fromfile(
        str(STT_DIR / f'labelprop_r{depth}-s{stride}_{benchmark}.py'))


@pytest.mark.parametrize('depth, stride, benchmark', LEAVES)
def test_protocol_settings(depth, stride, benchmark):
    cfg = load(depth, stride, benchmark)
    model, propagator = cfg.model, cfg.model.propagator
    backbone = propagator.backbone
    assert (backbone.depth, backbone.out_indices) == (depth, (2, ))
    assert (backbone.stem_pool, tuple(backbone.stage_strides)) == (
        ('none', (1, 2, 2)) if stride == 8 else ('avg', (1, 1, 1)))
    assert backbone.init_cfg.checkpoint == \
        f'checkpoints/stt_r{depth}-s{stride}.pth'
    assert model.stride == stride
    assert (propagator.topk, propagator.n_context, propagator.temperature,
            propagator.window, propagator.restrict_first_frame,
            propagator.context) == (10, 20, 0.07, 'square', True, 'recent')
    neighbor_range = NEIGHBOR_RANGE[benchmark][stride == 4]
    assert propagator.radius == neighbor_range // 2
    assert (model.protocol, model.grid_rounding) == ('stt', 'ceil')
    preprocessor = model.data_preprocessor
    assert (tuple(preprocessor.mean), tuple(preprocessor.std),
            preprocessor.color_space) == ((50, 0, 0), (50, 127, 127), 'lab')
    if benchmark == 'jhmdb-320x320':
        assert (model.label_type, tuple(model.input_size),
                model.keypoint_topk, model.keypoint_sigma) == (
                    'keypoints', (320, 320), 5, 4)
        assert cfg.test_evaluator.protocol == 'vfs'
    elif benchmark == 'vip-560x560':
        assert (model.label_type, tuple(model.input_size),
                model.num_classes) == ('classes', (560, 560), 20)
        assert cfg.test_evaluator.protocol == 'vfs'
    else:
        assert (model.label_type, model.input_size) == ('instances', None)


@pytest.mark.parametrize('depth, stride', [(18, 8), (18, 4)])
def test_the_backbone_gives_the_official_davis_grid(depth, stride):
    cfg = load(depth, stride, 'davis17-semi')
    backbone = MODELS.build(cfg.model.propagator.backbone).eval()
    with torch.no_grad():
        (feats, ) = backbone(torch.zeros(1, 3, 480, 854))
    assert feats.shape[-2:] == ((60, 107) if stride == 8 else (120, 214))


SYNTHETIC_DIR = STT_DIR.parent / 'stt_synthetic_test'
#: synthetic leaf -> (official stride-8 leaf, official grid height in cells).
SYNTHETIC_LEAVES = {
    'davis17-semi': ('davis17-semi', 60),
    'jhmdb': ('jhmdb-320x320', 40),
    'vip': ('vip-560x560', 70),
}


def without(cfg, *keys):
    """The config as a dict without the dotted ``keys``."""
    data = cfg.to_dict()
    for key in keys:
        *parents, last = key.split('.')
        node = data
        for parent in parents:
            node = node[parent]
        node.pop(last)
    return data


@pytest.mark.parametrize('synthetic, official', [
    (name, leaf) for name, (leaf, _) in SYNTHETIC_LEAVES.items()
])
def test_synthetic_configs_keep_the_protocol(synthetic, official):
    """The quick start's tiny test configs (tools/quickstart.py --method stt)
    are the ResNet-18 stride-8 protocol but for the weights (the test
    checkpoint), the 64x112 input (an 8x14 grid) and the window scaled to
    that grid by its height."""
    cfg = Config.fromfile(
        str(SYNTHETIC_DIR /
            f'labelprop_stt-r18-s8_synthetic-{synthetic}.py'))
    reference = load(18, 8, official)
    propagator = cfg.model.propagator
    assert propagator.backbone.init_cfg is None
    assert tuple(cfg.model.input_size) == (64, 112)
    official_radius = reference.model.propagator.radius
    grid_height = SYNTHETIC_LEAVES[synthetic][1]
    assert propagator.radius == round(official_radius / grid_height * 8)
    changed = ('model.propagator.backbone.init_cfg', 'model.input_size',
               'model.propagator.radius')
    assert without(cfg, *changed)['model'] == without(reference,
                                                      *changed)['model']
    evaluator = {key: value for key, value in cfg.test_evaluator.items()
                 if key != 'alphas'}
    assert evaluator == {key: value for key, value
                         in reference.test_evaluator.items()
                         if key != 'alphas'}
