"""The VideoSAUR dataset bases and test configs resolve as intended.

The test configs inherit the VideoSAUR / DINOSAUR training configs; where
those are not in this checkout, stand-ins (a model of type 'StandIn' on the
dataset base and the default runtime) take their place in a copy of the
config tree.
"""
import shutil
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from mmsmtc.datasets import ShardWriter, VideoShardDataset

CONFIGS = Path(__file__).parents[2] / 'configs'
TRAINING = {
    'videosaur/videosaur_vit-b8-dino_1xb128-100k_movi-c-224x224.py':
    'movi_c',
    'videosaur/videosaur_vit-b8-dino_1xb128-100k_movi-e-224x224.py':
    'movi_e',
    'videosaur/videosaur_vit-b16-dino_1xb128-100k_ytvis2021-224x224.py':
    'ytvis2021',
    'videosaur/videosaur_vit-b14-dinov2_1xb64-100k_ytvis2021-518x518.py':
    'ytvis2021_518',
    'dinosaur/dinosaur_vit-b14-dinov2_1xb64-500k_coco-224x224.py': 'coco',
}
# test config -> (dataset type, shards, chunk_len, patch size)
BENCHMARKS = {
    'videosaur_vit-b8-dino_movi-c-224x224.py':
    ('movi_c-validation-{000000..000007}.tar', None, 8),
    'videosaur_vit-b8-dino_movi-e-224x224.py':
    ('movi_e-validation-{000000..000007}.tar', None, 8),
    'videosaur_vit-b16-dino_ytvis2021-224x224.py':
    ('ytvis-validation-{000000..000029}.tar', 6, 16),
    'videosaur_vit-b14-dinov2_ytvis2021-518x518.py':
    ('ytvis-validation-{000000..000029}.tar', 6, 14),
    'dinosaur_vit-b14-dinov2_coco-224x224.py':
    ('coco-validation-{000000..000039}.tar', None, 14),
}


@pytest.fixture(scope='module')
def config_tree(tmp_path_factory):
    """The repository's configs, with stand-in training configs for the
    missing ones."""
    root = tmp_path_factory.mktemp('configs') / 'configs'
    shutil.copytree(CONFIGS, root)
    for path, base in TRAINING.items():
        if (root / path).exists():
            continue
        (root / path).parent.mkdir(exist_ok=True)
        (root / path).write_text(
            f"_base_ = ['../_base_/datasets/{base}.py', "
            "'../_base_/default_runtime.py']\n"
            "model = dict(type='StandIn', data_preprocessor=None)\n")
    return root


@pytest.mark.parametrize('name', sorted(BENCHMARKS))
def test_benchmark_test_configs(config_tree, name):
    cfg = Config.fromfile(str(config_tree / 'videosaur_test' / name))
    shards, chunk_len, patch = BENCHMARKS[name]
    assert cfg.model.type == 'ObjectDiscoverySegmentor'
    assert cfg.model.model.type != 'ObjectDiscoverySegmentor'
    assert cfg.model.post_processor == dict(
        type='SlotArgmaxPostProcessor', output_size=(224, 224))
    assert cfg.model.size_multiple == patch
    dataset = cfg.test_dataloader.dataset
    assert dataset.type == 'VideoShardDataset'
    assert dataset.shards == shards
    assert dataset.get('chunk_len') == chunk_len
    assert dataset.get('official_partial_scoring') is None
    assert cfg.test_cfg.type == 'VideoTestLoop'
    assert cfg.test_evaluator == dict(type='ObjectDiscoveryMetric',
                                      ignore_background=True,
                                      collect_device='cpu')
    resize = [t for t in dataset.pipeline if t.type == 'ClipBicubicResize']
    input_size = 518 if '518' in name else 224
    assert resize == [dict(type='ClipBicubicResize', size=input_size,
                           mask_size=224)]


def test_official_partial_config_is_separate(config_tree):
    cfg = Config.fromfile(
        str(config_tree / 'videosaur_test' /
            'videosaur_vit-b16-dino_ytvis2021-224x224_official-partial.py'))
    assert cfg.test_dataloader.dataset.official_partial_scoring == dict(
        val_size=200, num_workers=8, batch_size=16)


@pytest.mark.parametrize('benchmark, dataset_type, metric', [
    ('davis17-unsup', 'DAVIS2017Dataset', 'DAVISMetric'),
    ('davis16', 'DAVIS2016Dataset', 'SingleObjectMetric'),
    ('segtrackv2', 'SegTrackV2Dataset', 'SingleObjectMetric'),
    ('fbms', 'FBMSDataset', 'SingleObjectMetric'),
])
def test_discovery_configs(config_tree, benchmark, dataset_type, metric):
    cfg = Config.fromfile(
        str(config_tree / 'videosaur_test' /
            f'discovery_videosaur-vit-b16_{benchmark}.py'))
    reference = Config.fromfile(
        str(CONFIGS / '_base_' / 'datasets' /
            f'{benchmark.replace("-", "_")}.py'))
    assert cfg.test_dataloader == reference.test_dataloader
    assert cfg.test_evaluator == reference.test_evaluator
    assert cfg.test_dataloader.dataset.type == dataset_type
    assert cfg.test_evaluator.type == metric
    assert cfg.model.input_size == (224, 224)
    post = cfg.model.post_processor
    discovery = post if post.type == 'ObjectDiscoveryPostProcessor' else \
        post.discovery
    assert discovery.max_proposals == 20


def test_coco_base_reads_images_with_void_overlaps(tmp_path):
    cfg = Config.fromfile(str(CONFIGS / '_base_/datasets/coco.py'))
    image = np.random.default_rng(0).integers(0, 256, (30, 40, 3), np.uint8)
    masks = np.zeros((2, 30, 40), np.uint8)
    masks[0, :15] = 18
    masks[1, 10:20] = 1
    with ShardWriter(str(tmp_path / 'coco-validation-%06d.tar'), 4) as w:
        w.write('139', dict(image=image, segmentations=masks))
    settings = cfg.test_dataloader.dataset.to_dict()
    settings.pop('type')
    settings.update(data_root=str(tmp_path), shards='coco-*.tar')
    packed = VideoShardDataset(**settings)[0]
    assert packed['inputs'].shape == (1, 224, 224, 3)
    gt = packed['data_samples'].gt_masks
    assert gt.shape == (1, 224, 224)
    assert set(np.unique(gt)) == {0, 1, 2, 255}
