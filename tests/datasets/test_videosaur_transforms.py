"""VideoSAUR's transforms against a direct transcription of the official
ones (videosaur/data/transforms.py: ToTensorVideo, CenterFullCropVideo,
Resize with clamp, DenseToOneHotMask / YTVISToBinary + nearest-exact)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmsmtc.datasets import ShardWriter, VideoShardDataset
from mmsmtc.datasets.shards import ShardFormatError
from mmsmtc.datasets.transforms.shard_transforms import (VOID_ID,
                                                         center_square_box,
                                                         segmentations_to_ids,
                                                         short_side_size)


def official_frames(video, size, central=False):
    """uint8 (T, H, W, 3) -> official (T, 3, s, s) float in [0, 1]."""
    clip = torch.from_numpy(video).float().permute(3, 0, 1, 2) / 255.0
    if central:
        h, w = clip.shape[-2:]
        side = min(h, w)
        i, j = int(round((h - side) / 2.0)), int(round((w - side) / 2.0))
        clip = clip[..., i:i + side, j:j + side]
    clip = F.interpolate(clip, size=size, mode='bicubic').clamp(0, 1)
    return clip.permute(1, 0, 2, 3)


def official_masks(binary, size, central=False):
    """bool (T, C, H, W) -> official (T, C, s, s) bool."""
    masks = torch.from_numpy(binary).to(torch.uint8)
    if central:
        h, w = masks.shape[-2:]
        side = min(h, w)
        i, j = int(round((h - side) / 2.0)), int(round((w - side) / 2.0))
        masks = masks[..., i:i + side, j:j + side]
    return F.interpolate(masks, size=size, mode='nearest-exact').bool()


def ids_from_binary(binary):
    """(T, C, h, w) bool without overlaps -> (T, h, w) ids (channel + 1,
    0 where no channel is set)."""
    binary = binary.numpy()
    ids = np.zeros(binary.shape[:1] + binary.shape[2:], np.uint8)
    for channel in range(binary.shape[1]):
        ids[binary[:, channel]] = channel + 1
    return ids


def movi_like(tmp_path, num_frames=5, size=(12, 12), num_ids=4):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (num_frames, *size, 3), dtype=np.uint8)
    ids = rng.integers(0, num_ids, (num_frames, *size, 1), dtype=np.uint8)
    with ShardWriter(str(tmp_path / 'movi_c-validation-%06d.tar'), 4) as w:
        w.write('0', dict(video=frames, segmentations=ids))
    return frames, ids


def test_movi_test_pipeline_equals_the_official(tmp_path):
    frames, ids = movi_like(tmp_path)
    dataset = VideoShardDataset(
        shards='movi_c-validation-*.tar', data_root=str(tmp_path),
        pipeline=[
            dict(type='LoadShardSample', fields=('video', 'segmentations')),
            dict(type='ShardSegmentationsToIds', layout='movi'),
            dict(type='ClipBicubicResize', size=20, mask_size=20),
            dict(type='PackShardVideoInputs'),
        ])
    packed = dataset[0]
    ours = packed['inputs']
    assert ours.shape == (5, 20, 20, 3) and ours.dtype == np.float32
    reference = official_frames(frames, (20, 20)).permute(0, 2, 3, 1)
    np.testing.assert_allclose(ours / 255.0, reference.numpy(), rtol=0,
                               atol=1e-6)
    one_hot = F.one_hot(torch.from_numpy(ids[..., 0]).long(), 11)
    expected = official_masks(one_hot.permute(0, 3, 1, 2).numpy().astype(
        bool), (20, 20)).int().argmax(1)
    sample = packed['data_samples']
    np.testing.assert_array_equal(sample.gt_masks, expected.numpy())
    assert sample.metainfo['ori_shape'] == (20, 20)
    assert sample.metainfo['video_name'] == '0'


def test_ytvis_test_pipeline_equals_the_official(tmp_path):
    """Non-square frames, centre crop with an odd margin (Python round),
    instance channels holding category ids, chunks of 2 frames."""
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (5, 9, 14, 3), dtype=np.uint8)
    instances = np.zeros((5, 9, 14, 3), np.uint8)
    instances[:, 1:5, 2:9, 0] = 7
    instances[:, 5:9, 6:13, 1] = 3
    instances[2:, 0:2, 10:14, 2] = 40
    with ShardWriter(str(tmp_path / 'ytvis-validation-%06d.tar'), 10) as w:
        w.write('123', dict(video=frames, segmentations=instances))
    dataset = VideoShardDataset(
        shards='ytvis-validation-*.tar', data_root=str(tmp_path),
        chunk_len=2, pipeline=[
            dict(type='LoadShardSample', fields=('video', 'segmentations')),
            dict(type='ShardSegmentationsToIds', layout='ytvis'),
            dict(type='ClipCenterFullCrop'),
            dict(type='ClipBicubicResize', size=16, mask_size=12),
            dict(type='PackShardVideoInputs'),
        ])
    assert len(dataset) == 2  # frames [0, 2), [2, 4); the 5th dropped
    packed = dataset[1]
    assert packed['data_samples'].metainfo['video_name'] == '123_1'
    assert packed['data_samples'].metainfo['frame_range'] == (2, 4)
    reference = official_frames(frames[2:4], (16, 16), central=True)
    np.testing.assert_allclose(packed['inputs'] / 255.0,
                               reference.permute(0, 2, 3, 1).numpy(),
                               rtol=0, atol=1e-6)
    binary = np.moveaxis(instances[2:4] != 0, -1, 1)
    expected = ids_from_binary(official_masks(binary, (12, 12), True))
    np.testing.assert_array_equal(packed['data_samples'].gt_masks, expected)
    assert set(np.unique(expected)) == {0, 1, 2, 3}


def test_center_box_and_short_side_follow_the_official_rounding():
    # (14 - 9) / 2 = 2.5 -> round() gives 2; (15 - 8) / 2 = 3.5 -> 4.
    assert center_square_box(9, 14) == (0, 2, 9)
    assert center_square_box(15, 8) == (4, 0, 8)
    assert short_side_size(720, 1280, 320) == (320, 568)
    assert short_side_size(1280, 720, 224) == (398, 224)
    assert short_side_size(500, 500, 224) == (224, 224)


def test_segmentations_to_ids_layouts_and_overlaps():
    ytvis = np.zeros((1, 2, 3, 2), np.uint8)
    ytvis[0, 0, :2, 0] = 5
    ytvis[0, :, 1, 1] = 9
    ids, overlaps = segmentations_to_ids(ytvis, 'ytvis', 'x')
    np.testing.assert_array_equal(ids[0], [[1, VOID_ID, 0], [0, 2, 0]])
    assert overlaps == 1
    coco = np.moveaxis(ytvis[0], -1, 0)
    np.testing.assert_array_equal(segmentations_to_ids(coco, 'coco', 'x')[0],
                                  ids)
    movi = np.array([[[[0], [3]]]], np.uint8)
    np.testing.assert_array_equal(segmentations_to_ids(movi, 'movi', 'x')[0],
                                  [[[0, 3]]])
    with pytest.raises(ShardFormatError, match=r'x: segmentations must be '
                       r'integer \(T, H, W, 1\)'):
        segmentations_to_ids(ytvis, 'movi', 'x')
    with pytest.raises(ShardFormatError, match='MOVi ids'):
        segmentations_to_ids(movi + 255, 'movi', 'x')


def test_training_pipelines_are_seeded_and_clip_consistent(tmp_path):
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 256, (13, 10, 16, 3), dtype=np.uint8)
    with ShardWriter(str(tmp_path / 'ytvis-train-%06d.tar'), 10) as w:
        w.write('5', dict(video=frames))
    pipeline = [
        dict(type='SampleAlignedChunk', chunk_len=4),
        dict(type='LoadShardSample', fields=('video', )),
        dict(type='ClipBicubicResize', short_side=8),
        dict(type='ClipRandomSquareCrop', size=8),
        dict(type='ClipRandomFlip', prob=0.5),
        dict(type='PackClipInputs'),
    ]
    dataset = VideoShardDataset(shards='ytvis-train-*.tar',
                                data_root=str(tmp_path), min_frames=4,
                                pipeline=pipeline)

    def draw(seed):
        np.random.seed(seed)
        return [dataset[0] for _ in range(6)]

    first, again = draw(0), draw(0)
    for one, other in zip(first, again):
        torch.testing.assert_close(one['inputs'], other['inputs'])
    resized = official_frames(frames, (8, 12)).permute(0, 2, 3, 1).numpy()
    starts, flips = set(), set()
    for packed in first:
        meta = packed['data_samples'].metainfo
        start = meta['frame_indices'][0]
        assert meta['frame_indices'] == list(range(start, start + 4))
        assert packed['inputs'].shape == (4, 3, 8, 8)
        x1, y1, x2, y2 = meta['crop_bbox']
        assert y1 == 0 and x2 - x1 == 8
        clip = packed['inputs'].permute(0, 2, 3, 1).numpy() / 255.0
        if meta['flip']:
            clip = clip[:, :, ::-1]
        # The clip is one aligned chunk of the resized video, cropped at
        # one place for all frames.
        matches = [
            s for s in (0, 4, 8) if np.allclose(
                clip, resized[s:s + 4, :, x1:x2], atol=1e-6)
        ]
        assert matches == [start]
        starts.add(start)
        flips.add(meta['flip'])
    assert flips == {True, False} and len(starts) > 1
