"""YouTube-VOS clip sampling and clip-consistent transforms."""
import numpy as np
import pytest
from data_fixtures import video_frames, write_frames

from mmsmtc.datasets import YTVOSClipDataset, sample_clip_indices
from mmsmtc.datasets.transforms import (ClipRandomFlip,
                                        ClipRandomResizedCrop, ClipResize,
                                        PackClipInputs)
from mmsmtc.structures.video_data_sample import VideoDataSample


def official_clips(length, num_frames, gap):
    """Every clip the official SMTC sampler can return (its loop, written
    out as the set of outcomes of ``random.randint``)."""
    if gap * num_frames // 2 >= length - gap * num_frames // 2 - 1:
        gap = gap - 1
    low = gap * num_frames // 2
    high = length - gap * num_frames // 2 - 1
    return {
        tuple(centre + gap * (i - num_frames // 2)
              for i in range(num_frames))
        for centre in range(low, high + 1)
    }


@pytest.mark.parametrize('length,num_frames,gap',
                         [(30, 4, 4), (17, 4, 4), (18, 4, 4), (40, 7, 2),
                          (12, 3, 3), (9, 4, 2)])
def test_clip_sampling_matches_the_official_sampler(length, num_frames, gap):
    rng = np.random.RandomState(0)
    drawn = {tuple(sample_clip_indices(length, num_frames, gap, rng))
             for _ in range(400)}
    assert drawn == official_clips(length, num_frames, gap)


def test_smtc_clip_is_centre_minus_8_to_plus_4():
    rng = np.random.RandomState(1)
    for _ in range(50):
        clip = sample_clip_indices(20, 4, 4, rng)
        assert np.diff(clip).tolist() == [4, 4, 4]
        assert 0 <= clip[0] and clip[-1] <= 20 - 5


def test_short_videos_lower_the_stride_further():
    rng = np.random.RandomState(0)
    clip = sample_clip_indices(6, 4, 4, rng)
    assert np.diff(clip).tolist() == [1, 1, 1]
    assert sample_clip_indices(5, 4, 1, rng) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match='4 frames is too short.*needs 5'):
        sample_clip_indices(4, 4, 4, rng)


@pytest.fixture
def ytvos_root(tmp_path):
    frames = tmp_path / 'YTVOS' / 'train' / 'JPEGImages'
    write_frames(frames / 'long', video_frames(20, (24, 32)))
    write_frames(frames / 'tiny', video_frames(3, (24, 32)))
    return tmp_path / 'YTVOS'


TRAIN_PIPELINE = [
    dict(type='LoadClipFrames'),
    dict(type='ClipRandomResizedCrop', size=(16, 16), scale=(0.3, 1.0)),
    dict(type='ClipRandomFlip', prob=0.5),
    dict(type='PackClipInputs'),
]


def test_ytvos_dataset_packs_clips(ytvos_root):
    dataset = YTVOSClipDataset(
        data_root=str(ytvos_root), pipeline=TRAIN_PIPELINE)
    assert len(dataset) == 1
    np.random.seed(3)
    sample = dataset[0]
    inputs, data_sample = sample['inputs'], sample['data_samples']
    assert inputs.shape == (4, 3, 16, 16) and str(inputs.dtype) == \
        'torch.uint8'
    assert isinstance(data_sample, VideoDataSample)
    indices = data_sample.frame_indices
    assert np.diff(indices).tolist() == [4, 4, 4]
    assert data_sample.frame_names == [f'{i:05d}' for i in indices]
    assert data_sample.num_frames == 4
    assert data_sample.ori_shape == (24, 32)
    assert data_sample.img_shape == (16, 16)


def test_ytvos_runs_are_reproducible(ytvos_root):
    dataset = YTVOSClipDataset(
        data_root=str(ytvos_root), pipeline=TRAIN_PIPELINE)
    np.random.seed(7)
    first = [dataset[0] for _ in range(3)]
    np.random.seed(7)
    second = [dataset[0] for _ in range(3)]
    for a, b in zip(first, second):
        assert (a['inputs'] == b['inputs']).all()
        assert a['data_samples'].frame_indices == \
            b['data_samples'].frame_indices


def test_ytvos_errors(tmp_path, ytvos_root):
    with pytest.raises(FileNotFoundError, match='JPEGImages'):
        YTVOSClipDataset(data_root=str(tmp_path / 'nowhere'))
    with pytest.raises(ValueError, match='no video with at least 41'):
        YTVOSClipDataset(data_root=str(ytvos_root), num_frames=40)
    with pytest.raises(ValueError, match='num_frames and gap'):
        YTVOSClipDataset(data_root=str(ytvos_root), gap=0)
    (ytvos_root / 'train' / 'JPEGImages' / 'hollow').mkdir()
    with pytest.raises(ValueError, match='hollow: empty sequence'):
        YTVOSClipDataset(data_root=str(ytvos_root))


def _identical_clip(num_frames=4, size=(24, 32)):
    frame = video_frames(1, size)[0]
    return dict(imgs=[frame.copy() for _ in range(num_frames)])


def _distinct_clip(num_frames=4, size=(24, 32)):
    return dict(imgs=list(video_frames(num_frames, size)))


def _all_equal(imgs):
    return all((img == imgs[0]).all() for img in imgs)


def test_random_resized_crop_is_the_same_on_every_frame():
    crop = ClipRandomResizedCrop(size=(10, 12), scale=(0.2, 0.6))
    np.random.seed(0)
    boxes = set()
    for _ in range(10):
        results = crop(_identical_clip())
        assert _all_equal(results['imgs'])
        assert results['imgs'][0].shape == (10, 12, 3)
        x1, y1, x2, y2 = results['crop_bbox']
        assert 0 <= x1 < x2 <= 32 and 0 <= y1 < y2 <= 24
        boxes.add(tuple(results['crop_bbox']))
    assert len(boxes) > 1


def test_random_resized_crop_crops_each_frame_at_the_box():
    crop = ClipRandomResizedCrop(size=(24, 32), scale=(0.99, 1.0),
                                 ratio=(4 / 3, 4 / 3))
    clip = _distinct_clip()
    results = crop(dict(imgs=list(clip['imgs'])))
    for before, after in zip(clip['imgs'], results['imgs']):
        np.testing.assert_array_equal(before, after)


def test_random_resized_crop_falls_back_to_a_central_crop(monkeypatch):
    crop = ClipRandomResizedCrop(size=(8, 8), scale=(1.0, 1.0),
                                 ratio=(4.0, 4.0))
    assert crop.crop_box(24, 32).tolist() == [0, 8, 32, 16]
    with pytest.raises(ValueError, match='scale'):
        ClipRandomResizedCrop(size=(8, 8), scale=(0.0, 1.0))
    with pytest.raises(ValueError, match='ratio'):
        ClipRandomResizedCrop(size=(8, 8), ratio=(2.0, 1.0))
    with pytest.raises(ValueError, match='size'):
        ClipResize(size=(8, ))


def test_flip_is_the_same_on_every_frame():
    clip = _distinct_clip()
    flipped = ClipRandomFlip(prob=1.0)(dict(imgs=list(clip['imgs'])))
    assert flipped['flip'] is True
    for before, after in zip(clip['imgs'], flipped['imgs']):
        np.testing.assert_array_equal(after, before[:, ::-1])
    kept = ClipRandomFlip(prob=0.0)(dict(imgs=list(clip['imgs'])))
    assert kept['flip'] is False
    with pytest.raises(ValueError, match='prob'):
        ClipRandomFlip(prob=2)


def test_resize_and_pack_clip():
    results = ClipResize(size=(8, 10))(_distinct_clip())
    assert results['img_shape'] == (8, 10)
    packed = PackClipInputs()(dict(results, video_name='v'))
    assert tuple(packed['inputs'].shape) == (4, 3, 8, 10)
    np.testing.assert_array_equal(packed['inputs'][2].permute(1, 2, 0),
                                  results['imgs'][2])
    assert packed['data_samples'].video_name == 'v'


def test_too_short_videos_are_dropped_and_logged(ytvos_root, monkeypatch):
    from mmsmtc.datasets import ytvos_clip_dataset
    messages = []
    monkeypatch.setattr(ytvos_clip_dataset, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    dataset = YTVOSClipDataset(data_root=str(ytvos_root))
    assert [dataset.get_data_info(0)['video_name']] == ['long']
    assert len(messages) == 1 and "'tiny'" in messages[0]
