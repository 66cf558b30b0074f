"""Every test config loads, builds its segmentor and evaluator on CPU and
carries the protocol settings of ``label_propagation.md``."""
import re
from pathlib import Path

import pytest
from mmengine.config import Config

from mmsmtc.registry import METRICS, MODELS
from mmsmtc.utils import register_all_modules

register_all_modules()
CONFIGS_ROOT = Path(__file__).resolve().parents[2] / 'configs'
#: Test configs, one folder per method (``configs/<method>_test``).
CONFIGS = sorted(CONFIGS_ROOT.glob('*_test/*.py'))
CONFIG_DIR = CONFIGS_ROOT / 'smtc_test'
CRW_DIR = CONFIGS_ROOT / 'crw_test'

#: (stride, topk, n_context, radius, temperature, feature_upsample) stated
#: by the protocol for the DAVIS-2017 semi-supervised configs.
PROTOCOL = {
    'labelprop_vit-s16_davis17-semi.py': (16, 7, 20, 7, 0.2, None),
    'labelprop_vit-s16-up2_davis17-semi.py': (8, 28, 20, 35, 0.2, 2),
    'labelprop_r50-s8_davis17-semi.py': (8, 10, 20, 12, 0.05, None),
    'labelprop_r18-s8_davis17-semi.py': (8, 10, 20, 12, 0.05, None),
}


def config_path(name):
    return (CRW_DIR if '_r' in name.split('-')[0] else CONFIG_DIR) / name


def test_configs_found():
    assert len(CONFIGS) >= 18
    assert all(config_path(name).is_file() for name in PROTOCOL)


def missing_bases(path):
    """The config files ``path`` inherits (directly or not) that are
    absent."""
    text = path.read_text()
    match = re.search(r"^_base_ = (\[.*?\]|'.*?')", text, re.M | re.S)
    if not match:
        return []
    bases = re.findall(r"'([^']+\.py)'", match.group(1))
    missing = []
    for base in bases:
        base_path = (path.parent / base).resolve()
        missing += [str(base_path.relative_to(CONFIGS_ROOT))] if not \
            base_path.is_file() else missing_bases(base_path)
    return missing


@pytest.mark.parametrize('path', CONFIGS,
                         ids=lambda path: f'{path.parent.name}/{path.stem}')
def test_config_builds(path):
    missing = missing_bases(path)
    if missing:
        pytest.skip(f'{path.name} inherits {missing}, which this checkout '
                    'does not have (a method merged in parts)')
    cfg = Config.fromfile(str(path))
    assert cfg.test_cfg.type == 'VideoTestLoop'
    assert cfg.test_dataloader.batch_size == 1
    evaluators = cfg.test_evaluator if isinstance(
        cfg.test_evaluator, list) else [cfg.test_evaluator]
    for evaluator in evaluators:
        assert evaluator.collect_device == 'cpu'
        METRICS.build(evaluator)
    model = MODELS.build(cfg.model)
    assert model.data_preprocessor.mean.device.type == 'cpu'


@pytest.mark.parametrize('name', sorted(PROTOCOL))
def test_protocol_settings(name):
    cfg = Config.fromfile(str(config_path(name)))
    stride, topk, n_context, radius, temperature, upsample = PROTOCOL[name]
    propagator = cfg.model.propagator
    assert cfg.model.stride == stride
    assert (propagator.topk, propagator.n_context, propagator.radius,
            propagator.temperature) == (topk, n_context, radius, temperature)
    assert propagator.feature_upsample == upsample
    assert cfg.model.input_size is None
    assert cfg.model.grid_rounding == 'floor'


@pytest.mark.parametrize('encoder', ['vit-s16-up2', 'r50-s8', 'r18-s8'])
def test_jhmdb_and_vip_input_sizes(encoder):
    jhmdb = Config.fromfile(
        str(config_path(f'labelprop_{encoder}_jhmdb-320x320.py'))).model
    vip = Config.fromfile(
        str(config_path(f'labelprop_{encoder}_vip-560x560.py'))).model
    assert (tuple(jhmdb.input_size), jhmdb.stride, jhmdb.grid_rounding,
            jhmdb.label_type, jhmdb.keypoint_topk) == (
                (320, 320), 8, 'ceil', 'keypoints', 3)
    assert (tuple(vip.input_size), vip.stride, vip.num_classes,
            vip.label_type) == ((560, 560), 8, 20, 'classes')


@pytest.mark.parametrize('task', ['jhmdb-320x320', 'vip-560x560'])
def test_resnet_jhmdb_and_vip_use_the_crw_settings(task):
    for depth in (50, 18):
        propagator = Config.fromfile(
            str(CRW_DIR /
                f'labelprop_r{depth}-s8_{task}.py')).model.propagator
        assert propagator.backbone.depth == depth
        assert (propagator.topk, propagator.n_context, propagator.radius,
                propagator.temperature) == (10, 20, 12, 0.05)
