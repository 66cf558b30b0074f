"""COCO RLE decoding, YT-VIS 2021 -> VideoSAUR shards, and the shard
checker."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from mmsmtc.datasets import index_shards, read_npy_member, ytvis_shards
from mmsmtc.datasets.rle import decode_compressed_counts, decode_rle
from mmsmtc.datasets.shard_check import (LAYOUTS, SplitLayout,
                                         check_videosaur_dataset)
from mmsmtc.datasets.synthetic import write_synthetic_movi_shards

FIXTURE = Path(__file__).parents[1] / 'data' / 'videosaur' / \
    'rle_pycocotools.json'


def test_rle_hand_cases():
    # Column-major runs starting with 0s: 2 zeros, 2 ones.
    np.testing.assert_array_equal(decode_rle([2, 2], (2, 2)),
                                  [[0, 1], [0, 1]])
    np.testing.assert_array_equal(decode_rle([0, 3, 1], (2, 2)),
                                  [[1, 1], [1, 0]])
    # Compressed: one character per small run ('0' + run).
    assert decode_compressed_counts('22') == [2, 2]
    np.testing.assert_array_equal(decode_rle('22', (2, 2)),
                                  [[0, 1], [0, 1]])
    # From the fourth run on, runs are stored as differences to the run two
    # before: '1201' -> 1, 2, 0, then 2 + 1 = 3.
    assert decode_compressed_counts('1201') == [1, 2, 0, 3]
    # 40 = 8 + 32 * 1 -> two groups: 8 | 0x20 -> 'X', 1 -> '1'.
    assert decode_compressed_counts('X1') == [40]
    with pytest.raises(ValueError, match='cover 3 pixels'):
        decode_rle([1, 2], (2, 2))
    with pytest.raises(ValueError, match='ends inside a number'):
        decode_compressed_counts('X')
    with pytest.raises(ValueError, match='invalid character'):
        decode_compressed_counts('2 ')


def test_rle_matches_pycocotools_fixture():
    """Masks encoded by pycocotools 2.0.11 (tests/data/videosaur)."""
    cases = json.loads(FIXTURE.read_text())['cases']
    for case in cases:
        decoded = decode_rle(case['counts'], case['size'])
        if 'mask' in case:
            np.testing.assert_array_equal(decoded, case['mask'])
            np.testing.assert_array_equal(
                decode_rle(case['uncompressed'], case['size']), case['mask'])
        else:
            expected = np.zeros(case['size'], np.uint8)
            (y0, y1, x0, x1), (z0, z1, w0, w1) = case['box_mask']
            expected[y0:y1, x0:x1] = 1
            expected[z0:z1, w0:w1] = 0
            np.testing.assert_array_equal(decoded, expected)


def test_rle_matches_pycocotools_when_installed():
    mask_api = pytest.importorskip(
        'pycocotools.mask', reason='pycocotools is not installed; the '
        'vendored fixture covers the comparison')
    rng = np.random.default_rng(3)
    for _ in range(50):
        mask = (rng.random(rng.integers(1, 30, 2)) < 0.4).astype(np.uint8)
        rle = mask_api.encode(np.asfortranarray(mask))
        np.testing.assert_array_equal(decode_rle(rle['counts'], rle['size']),
                                      mask)


def encode_runs(mask):
    """Uncompressed RLE counts of a mask (column-major, from 0s)."""
    flat = mask.T.reshape(-1)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    runs = np.diff(bounds).tolist()
    return runs if flat[0] == 0 else [0] + runs


def encode_string(runs):
    """Compressed RLE string of run lengths (pycocotools' rleToString)."""
    text = []
    for index, run in enumerate(runs):
        value = run - runs[index - 2] if index > 2 else run
        more = True
        while more:
            group = value & 0x1f
            value >>= 5
            more = not ((value == 0 and not group & 0x10) or
                        (value == -1 and group & 0x10))
            text.append(chr(group + (0x20 if more else 0) + 48))
    return ''.join(text)


def make_raw_ytvis(root, num_videos=5, size=(12, 20), length=3):
    """A tiny YT-VIS 2021 train folder: JPEG frames + instances.json with
    uncompressed and compressed RLE, absent frames and a crowd object."""
    rng = np.random.default_rng(4)
    videos, annotations, masks = [], [], {}
    for index in range(num_videos):
        video_id = 100 + index
        names = [f'v{index}/{t:05d}.jpg' for t in range(length)]
        for name in names:
            path = root / 'train' / 'JPEGImages' / name
            path.parent.mkdir(parents=True, exist_ok=True)
            pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(path, quality=90)
        videos.append(dict(id=video_id, width=size[1], height=size[0],
                           length=length, file_names=names))
        if index == 1:
            continue  # a video without annotations
        for number, (category, crowd) in enumerate([(3, 0), (7, 0), (9, 1)]):
            segmentations, object_masks = [], []
            for t in range(length):
                mask = np.zeros(size, np.uint8)
                if t == 1 and number == 1:
                    segmentations.append(None)
                    object_masks.append(mask)
                    continue
                mask[2 + number * 3:6 + number * 3, 3 + t:11 + t] = 1
                runs = encode_runs(mask)
                counts = runs if number == 0 else encode_string(runs)
                segmentations.append(dict(size=list(size), counts=counts))
                object_masks.append(mask)
            annotations.append(dict(id=len(annotations) + 1,
                                    video_id=video_id,
                                    category_id=category, iscrowd=crowd,
                                    segmentations=segmentations))
            if not crowd:
                masks.setdefault(video_id, []).append(
                    np.stack(object_masks) * category)
    instances = dict(videos=videos, annotations=annotations,
                     categories=[dict(id=i) for i in (3, 7, 9)])
    (root / 'train' / 'instances.json').write_text(json.dumps(instances))
    return instances, masks


def official_resize(array, short_side, as_frames):
    """The official save script's Resize(short_side_scale=True)."""
    tensor = torch.from_numpy(array).permute(3, 0, 1, 2)  # (C, F, H, W)
    if as_frames:
        tensor = tensor.float() / 255.0
    h, w = tensor.shape[-2:]
    size = (short_side, int(np.floor(w / h * short_side))) if w >= h else (
        int(np.floor(h / w * short_side)), short_side)
    resized = F.interpolate(tensor, size=size, mode='nearest-exact')
    if as_frames:
        resized = (resized * 255.0).byte()
    return resized.permute(1, 2, 3, 0).numpy()


def test_prepare_ytvis2021_tool(tmp_path, monkeypatch):
    from tools.data.prepare_ytvis2021 import main
    instances, masks = make_raw_ytvis(tmp_path / 'raw')
    monkeypatch.setattr(ytvis_shards, 'NUM_VALIDATION_VIDEOS', 2)
    monkeypatch.setitem(ytvis_shards.VIDEOS_PER_SHARD, 'train', 2)
    assert main([str(tmp_path / 'raw'), str(tmp_path / 'out'),
                 '--short-side', '6']) == 0
    train = index_shards(sorted((tmp_path / 'out').glob('ytvis-train-*')))
    val = index_shards(sorted((tmp_path / 'out').glob('ytvis-valid*')))
    assert [s.key for s in train] == ['100', '101', '102']
    assert [s.key for s in val] == ['103', '104']
    assert len({s.shard for s in train}) == 2
    for sample in train + val:
        video = next(v for v in instances['videos']
                     if str(v['id']) == sample.key)
        frames = np.stack([
            np.asarray(Image.open(tmp_path / 'raw' / 'train' / 'JPEGImages'
                                  / name)) for name in video['file_names']
        ])
        stored = read_npy_member(sample, 'video')
        assert stored.shape == (3, 6, 10, 3)
        np.testing.assert_array_equal(stored, official_resize(frames, 6,
                                                              True))
        if sample in train:  # videos only, as the official training data
            assert list(sample.fields) == ['video']
            continue
        expected = np.stack(masks[video['id']], -1) if video['id'] in \
            masks else np.zeros((3, 12, 20, 1), np.uint8)
        np.testing.assert_array_equal(read_npy_member(sample,
                                                      'segmentations'),
                                      official_resize(expected, 6, False))
    # Masks of every kind: the training videos with masks.
    (with_masks, ) = ytvis_shards.write_ytvis_split(
        instances, tmp_path / 'raw' / 'train' / 'JPEGImages',
        tmp_path / 'masks', 'train', 6, per_shard=4, with_masks=True)
    for sample in index_shards([with_masks]):
        video_id = int(sample.key)
        expected = np.stack(masks[video_id], -1) if video_id in masks \
            else np.zeros((3, 12, 20, 1), np.uint8)
        np.testing.assert_array_equal(
            read_npy_member(sample, 'segmentations'),
            official_resize(expected, 6, False))
    # Category ids as values, the crowd object left out, the absent frame
    # empty.
    segmentations = read_npy_member(val[0], 'segmentations')
    assert segmentations.shape[-1] == 2
    assert set(np.unique(segmentations[..., 1])) == {0, 7}
    assert not segmentations[1, ..., 1].any()
    with pytest.raises(FileExistsError, match='already holds shards'):
        main([str(tmp_path / 'raw'), str(tmp_path / 'out')])


def test_prepare_ytvis2021_refuses_bad_annotations(tmp_path):
    instances, _ = make_raw_ytvis(tmp_path / 'raw', num_videos=1)
    instances['annotations'][0]['segmentations'][0] = [[1.0, 2.0, 3.0]]
    with pytest.raises(ytvis_shards.YTVISFormatError,
                       match='video 100, annotation 1, frame 0: only RLE'):
        list(ytvis_shards.iter_split_samples(
            instances, tmp_path / 'raw' / 'train' / 'JPEGImages',
            'validation'))
    instances['annotations'][0]['segmentations'][0] = dict(
        size=[12, 20], counts=[5, 5])
    with pytest.raises(ytvis_shards.YTVISFormatError,
                       match='frame 0: RLE runs cover 10 pixels'):
        list(ytvis_shards.iter_split_samples(
            instances, tmp_path / 'raw' / 'train' / 'JPEGImages',
            'validation'))


def test_shard_checker(tmp_path, monkeypatch, capsys):
    from tools.data.check_videosaur_shards import main
    write_synthetic_movi_shards(tmp_path, num_train=3, num_val=5,
                                num_frames=4, size=32, per_shard=2)
    assert main([str(tmp_path), 'movi_c']) == 1
    out = capsys.readouterr().out
    assert 'train: 2 shards (official 305), 3 samples: MISMATCH' in out
    assert 'validation: 5 samples, the official split has 250' in out
    monkeypatch.setitem(
        LAYOUTS, 'movi_c',
        dict(train=SplitLayout('movi_c-train-*.tar', 2, None, ('video', )),
             validation=SplitLayout('movi_c-validation-*.tar', 3, 5,
                                    ('video', 'segmentations'))))
    assert main([str(tmp_path), 'movi_c']) == 0
    # A malformed member is named with its shard.
    shard = tmp_path / 'movi_c-validation-000001.tar'
    data = bytearray(shard.read_bytes())
    start = data.index(b'\x93NUMPY')
    data[start:start + 6] = b'XXXXXX'
    shard.write_bytes(bytes(data))
    (train, val) = check_videosaur_dataset(tmp_path, 'movi_c')
    assert train.ok and not val.ok
    assert val.errors == [
        f"{shard}: member '2.video.npy': not a .npy array (the magic "
        "string is not correct; expected b'\\x93NUMPY', got b'XXXXXX')"
    ]
