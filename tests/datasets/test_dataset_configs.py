"""Every dataset base config builds and loads through MMEngine."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmsmtc.datasets.dataset_check import check_dataset
from mmsmtc.registry import DATASETS, FUNCTIONS, METRICS, TRANSFORMS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / '_base_' / \
    'datasets'
# video_test.py is the partial base every test-time file inherits.
CONFIGS = sorted(path for path in CONFIG_DIR.glob('*.py')
                 if path.stem != 'video_test')


def _dataloader(cfg):
    return cfg.get('test_dataloader') or cfg.get('train_dataloader')


def test_configs_are_found():
    assert len(CONFIGS) >= 13


@pytest.mark.parametrize('path', CONFIGS, ids=lambda path: path.stem)
def test_config_names_registered_parts(path):
    cfg = Config.fromfile(path)
    dataloader = _dataloader(cfg)
    assert dataloader is not None, f'{path} defines no dataloader'
    assert DATASETS.get(dataloader.dataset.type) is not None
    # each test set owns its evaluator
    evaluators = cfg.get('test_evaluator')
    assert (evaluators is not None) == ('test_dataloader' in cfg), path
    if evaluators is not None:
        for metric in evaluators if isinstance(evaluators, list) else [
                evaluators]:
            assert METRICS.get(metric.type) is not None, metric
    assert dataloader.dataset.data_root.startswith('data/')
    for transform in dataloader.dataset.pipeline:
        TRANSFORMS.build(copy.deepcopy(transform))
    if 'test_dataloader' in cfg:
        assert dataloader.batch_size == 1
        assert FUNCTIONS.get(dataloader.collate_fn.type) is not None


def test_davis_test_dataloader_yields_whole_videos(davis_root):
    cfg = Config.fromfile(CONFIG_DIR / 'davis17_semi.py')
    dataloader_cfg = copy.deepcopy(cfg.test_dataloader)
    dataloader_cfg.update(num_workers=0, persistent_workers=False)
    dataloader_cfg.dataset.data_root = str(davis_root)
    batches = list(Runner.build_dataloader(dataloader_cfg))
    assert len(batches) == 2
    video = batches[0]['inputs'][0]
    assert len(video) == 3 and video[2].shape == (12, 16, 3)
    assert batches[1]['data_samples'][0].video_name == 'camel'


@pytest.mark.slow
def test_synthetic_configs_load_the_synthetic_set(tmp_path):
    from mmsmtc.datasets.synthetic import generate_synthetic_benchmark
    generate_synthetic_benchmark(tmp_path, num_train=1, num_val=1,
                                 num_frames=6, size=(32, 48))
    for path in sorted(CONFIG_DIR.glob('synthetic_*.py')):
        if path.name == 'synthetic_movi.py':
            continue  # shards of make_synthetic_movi.py, tested with them
        dataloader_cfg = copy.deepcopy(_dataloader(Config.fromfile(path)))
        dataset = dataloader_cfg.dataset
        dataset.data_root = dataset.data_root.replace(
            'data/synthetic', str(tmp_path))
        if 'train_dataloader' in path.read_text():
            dataloader_cfg.sampler = dict(type='DefaultSampler', shuffle=True)
        batch = next(iter(Runner.build_dataloader(dataloader_cfg)))
        inputs = batch['inputs']
        if 'train_dataloader' in path.read_text():
            assert inputs[0].shape == (4, 3, 256, 256)
            assert inputs[0].dtype == torch.uint8
        else:
            assert len(inputs[0]) == 6
    for benchmark, folder in [('ytvos', 'YTVOS'), ('davis2017', 'DAVIS'),
                              ('davis2016', 'DAVIS'), ('jhmdb', 'JHMDB'),
                              ('vip', 'VIP')]:
        report = check_dataset(benchmark, tmp_path / folder,
                               allow_subset=True)
        assert report.passed(allow_subset=True), report.problems
