"""The generated set is read by mmsmtc's dataset classes and checker."""
import numpy as np
import pytest

from mmsmtc.datasets.dataset_check import check_dataset
from mmsmtc.datasets.synthetic import render_synthetic_video
from mmsmtc.registry import DATASETS
from mmsmtc.utils import register_all_modules


@pytest.fixture(scope='module', autouse=True)
def mmsmtc_scope():
    """Dataset pipelines name mmsmtc transforms without a scope prefix."""
    register_all_modules(init_default_scope=True)


@pytest.mark.parametrize('benchmark, folder, count', [
    ('ytvos', 'YTVOS', 2),
    ('davis2017', 'DAVIS', 2),
    ('davis2016', 'DAVIS', 2),
    ('jhmdb', 'JHMDB', 2),
    ('vip', 'VIP', 2),
])
def test_dataset_checker_accepts_the_set(tiny_set, benchmark, folder, count):
    out_dir, _ = tiny_set
    report = check_dataset(benchmark, str(out_dir / folder), allow_subset=True)
    assert report.problems == []
    assert report.found == count
    assert report.passed(allow_subset=True)


def _first_sample(dataset_cfg):
    dataset = DATASETS.build(dataset_cfg)
    return len(dataset), dataset[0]['data_samples']


def test_davis_dataset_reads_the_rendered_masks(tiny_set, tiny_args):
    out_dir, _ = tiny_set
    video = render_synthetic_video(tiny_args['seed'], 1, 0,
                                   tiny_args['num_frames'], tiny_args['size'])
    num_videos, sample = _first_sample(
        dict(type='DAVIS2017Dataset',
             data_root=str(out_dir / 'DAVIS'),
             split='val',
             annotation_folder='Annotations_unsupervised',
             pipeline=[
                 dict(type='LoadVideoFrames'),
                 dict(type='LoadVideoAnnotations'),
                 dict(type='PackVideoInputs')
             ]))
    assert num_videos == 2
    assert sample.metainfo['video_name'] == 'val_0000'
    np.testing.assert_array_equal(np.asarray(sample.gt_masks),
                                  video.instance_masks)


def test_jhmdb_dataset_reads_the_rendered_keypoints(tiny_set, tiny_args):
    out_dir, _ = tiny_set
    video = render_synthetic_video(tiny_args['seed'], 1, 1,
                                   tiny_args['num_frames'], tiny_args['size'])
    dataset = DATASETS.build(
        dict(type='JHMDBDataset',
             data_root=str(out_dir / 'JHMDB'),
             ann_file='testlist_split1.txt',
             pipeline=[
                 dict(type='LoadVideoFrames'),
                 dict(type='LoadJHMDBKeypoints'),
                 dict(type='PackVideoInputs')
             ]))
    sample = dataset[1]['data_samples']
    chosen = np.isin(video.keypoint_object_ids, (1, 2))
    np.testing.assert_allclose(sample.gt_keypoints,
                               video.keypoints[:, chosen],
                               atol=1e-4)
