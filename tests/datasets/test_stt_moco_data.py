"""Spa-then-Temp's pair sampling and crop, MoCo's views and image folders."""
import numpy as np
import pytest
from data_fixtures import video_frames, write_frames

from mmsmtc.datasets import (ImageFolderDataset, YTVOSClipDataset,
                             sample_offset_clip_indices)
from mmsmtc.datasets.transforms import ClipRandomResizedCrop, FrameViews


@pytest.mark.parametrize('length,num_frames,gap', [(5, 2, 1), (9, 3, 2),
                                                   (2, 2, 1)])
def test_offset_sampling_is_the_official_random_offset(length, num_frames,
                                                       gap):
    """VFS: offset = random.randint(0, L - T * g), frames o + g * i."""
    rng = np.random.RandomState(0)
    drawn = {tuple(sample_offset_clip_indices(length, num_frames, gap, rng))
             for _ in range(300)}
    expected = {tuple(o + gap * i for i in range(num_frames))
                for o in range(length - num_frames * gap + 1)}
    assert drawn == expected
    with pytest.raises(ValueError, match='too short.*needs'):
        sample_offset_clip_indices(num_frames * gap - 1, num_frames, gap)


def test_stt_pairs_from_the_dataset(tmp_path):
    frames = tmp_path / 'YTVOS' / 'train' / 'JPEGImages'
    write_frames(frames / 'long', video_frames(6, (24, 32)))
    write_frames(frames / 'single', video_frames(1, (24, 32)))
    dataset = YTVOSClipDataset(
        data_root=str(tmp_path / 'YTVOS'), num_frames=2, gap=1,
        sampling='offset', pipeline=[])
    assert len(dataset) == 1  # the one-frame video is dropped
    starts = set()
    for _ in range(60):
        info = dataset[0]
        first, second = info['frame_indices']
        assert second == first + 1
        starts.add(first)
    assert starts == set(range(5))  # the last pair (4, 5) included
    with pytest.raises(ValueError, match='sampling'):
        YTVOSClipDataset(data_root=str(tmp_path / 'YTVOS'),
                         sampling='middle')


def test_centre_square_fallback_and_attempts():
    crop = ClipRandomResizedCrop(size=(8, 8), scale=(1.0, 1.0),
                                 ratio=(4.0, 4.0), max_attempts=20,
                                 fallback='centre_square')
    assert crop.crop_box(24, 32).tolist() == [4, 0, 28, 24]
    with pytest.raises(ValueError, match='fallback'):
        ClipRandomResizedCrop(size=(8, 8), fallback='square')
    with pytest.raises(ValueError, match='max_attempts'):
        ClipRandomResizedCrop(size=(8, 8), max_attempts=0)


def test_frame_views_are_drawn_independently():
    np.random.seed(0)
    frame = np.random.randint(0, 256, (24, 32, 3), dtype=np.uint8)
    views = FrameViews(crop=dict(size=(8, 8), scale=(0.1, 0.3)),
                       num_views=2)
    results = views(dict(imgs=[frame]))
    assert len(results['imgs']) == 2
    assert results['imgs'][0].shape == (8, 8, 3)
    assert not np.array_equal(results['imgs'][0], results['imgs'][1])
    with pytest.raises(ValueError, match='one frame'):
        views(dict(imgs=[frame, frame]))


def test_image_folder_dataset(tmp_path):
    write_frames(tmp_path / 'imgs' / 'train' / 'n01', video_frames(3, (8, 8)))
    write_frames(tmp_path / 'imgs' / 'train' / 'n02', video_frames(2, (8, 8)))
    dataset = ImageFolderDataset(data_root=str(tmp_path / 'imgs'),
                                 pipeline=[])
    assert len(dataset) == 5
    info = dataset[3]
    assert info['video_name'].startswith('n02/')
    assert len(info['frame_paths']) == 1
    with pytest.raises(FileNotFoundError, match='does not exist'):
        ImageFolderDataset(data_root=str(tmp_path / 'none'))
    (tmp_path / 'empty' / 'train' / 'n01').mkdir(parents=True)
    with pytest.raises(ValueError, match='no image'):
        ImageFolderDataset(data_root=str(tmp_path / 'empty'))
