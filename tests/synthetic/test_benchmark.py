"""The generated set: layouts, file names, read-back, determinism, errors."""
import filecmp
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from mmsmtc.datasets.synthetic import (generate_synthetic_benchmark,
                                       parse_size, render_synthetic_video)
from mmsmtc.datasets.synthetic.benchmark import GENERATOR_VERSION
from mmsmtc.datasets.synthetic.files import MAT_HEADER_TEXT
from mmsmtc.datasets.synthetic.layouts import JHMDB_CLASS
from mmsmtc.utils import DAVIS_PALETTE, read_indexed_png

VAL_SPLIT = 1
#: Must equal ``tiny_args`` (checked by ``test_tiny_arguments``).
TINY = dict(num_train=2, num_val=2, num_frames=4, size=(48, 64), seed=3)


def _tree(root: Path):
    return sorted(
        str(path.relative_to(root)) for path in root.rglob('*')
        if path.is_file())


def _val_video(index):
    return render_synthetic_video(TINY['seed'], VAL_SPLIT, index,
                                  TINY['num_frames'], TINY['size'])


def test_tiny_arguments(tiny_args):
    assert tiny_args == TINY


def test_file_names_follow_the_official_layouts(tiny_set):
    out_dir, summary = tiny_set
    expected = {'synthetic_meta.json'}
    for video in ('train_0000', 'train_0001'):
        expected |= {
            f'YTVOS/train/JPEGImages/{video}/{frame:05d}.jpg'
            for frame in (0, 5, 10, 15)
        }
    for video in ('val_0000', 'val_0001'):
        for index in range(4):
            expected |= {
                f'DAVIS/JPEGImages/480p/{video}/{index:05d}.jpg',
                f'DAVIS/Annotations/480p/{video}/{index:05d}.png',
                f'DAVIS/Annotations_unsupervised/480p/{video}/'
                f'{index:05d}.png',
                f'JHMDB/Rename_Images/{JHMDB_CLASS}/{video}/'
                f'{index + 1:05d}.png',
                f'VIP/VIP_Fine/Images/{video}/{index + 1:012d}.jpg',
                f'VIP/VIP_Fine/Annotations/Category_ids/{video}/'
                f'{index + 1:012d}.png',
            }
        expected.add(f'JHMDB/joint_positions/{JHMDB_CLASS}/{video}/'
                     'joint_positions.mat')
    expected |= {
        f'DAVIS/ImageSets/{year}/{split}.txt'
        for year in ('2016', '2017')
        for split in ('train', 'val')
    }
    expected |= {
        f'JHMDB/splits/{JHMDB_CLASS}_test_split1.txt',
        'JHMDB/testlist_split1.txt', 'VIP/VIP_Fine/lists/val_videos.txt'
    }
    assert set(_tree(out_dir)) == expected
    assert summary['num_files'] == len(expected)


def test_list_files(tiny_set):
    out_dir, _ = tiny_set
    davis = out_dir / 'DAVIS' / 'ImageSets'
    for year in ('2016', '2017'):
        assert (davis / year /
                'val.txt').read_text() == ('val_0000\nval_0001\n')
        assert (davis / year / 'train.txt').read_text() == ''
    jhmdb = out_dir / 'JHMDB'
    assert (jhmdb / 'splits' / f'{JHMDB_CLASS}_test_split1.txt'
            ).read_text() == 'val_0000.avi 2\nval_0001.avi 2\n'
    for line in (jhmdb / 'testlist_split1.txt').read_text().splitlines():
        frames, mat = line.split()
        assert (jhmdb / frames / '00001.png').is_file()
        assert (jhmdb / mat).is_file()
    assert (out_dir / 'VIP' / 'VIP_Fine' / 'lists' /
            'val_videos.txt').read_text() == 'val_0000\nval_0001\n'


def test_meta_file_matches_summary(tiny_set):
    out_dir, summary = tiny_set
    meta = json.loads((out_dir / 'synthetic_meta.json').read_text())
    assert meta == {k: v for k, v in summary.items() if k != 'out_dir'}
    assert meta['size'] == [48, 64]
    assert meta['num_keypoints'] == 8
    assert meta['generator_version'] == GENERATOR_VERSION
    assert summary['out_dir'] == str(out_dir)


def test_davis_masks_read_back_exactly(tiny_set):
    out_dir, summary = tiny_set
    for index, name in enumerate(summary['val_videos']):
        video = _val_video(index)
        assert summary['num_objects'][name] == video.instance_masks[0].max()
        for t in range(TINY['num_frames']):
            for folder in ('Annotations', 'Annotations_unsupervised'):
                path = out_dir / 'DAVIS' / folder / '480p' / name / (
                    f'{t:05d}.png')
                np.testing.assert_array_equal(read_indexed_png(path),
                                              video.instance_masks[t])
                with Image.open(path) as image:
                    assert image.mode == 'P'
                    palette = np.array(image.getpalette()).reshape(-1, 3)
                np.testing.assert_array_equal(palette,
                                              DAVIS_PALETTE[:len(palette)])
        first = read_indexed_png(out_dir / 'DAVIS' / 'Annotations' / '480p' /
                                 name / '00000.png')
        np.testing.assert_array_equal(np.unique(first),
                                      np.arange(first.max() + 1))


def test_frames_are_the_rendered_frames(tiny_set):
    out_dir, summary = tiny_set
    video = _val_video(1)
    name = summary['val_videos'][1]
    jhmdb_frame = np.array(
        Image.open(out_dir / 'JHMDB' / 'Rename_Images' / JHMDB_CLASS / name /
                   '00003.png'))
    np.testing.assert_array_equal(jhmdb_frame, video.frames[2])
    for path in (out_dir / 'DAVIS' / 'JPEGImages' / '480p' / name /
                 '00002.jpg', out_dir / 'VIP' / 'VIP_Fine' / 'Images' / name /
                 '000000000003.jpg'):
        decoded = np.array(Image.open(path)).astype(float)
        assert decoded.shape == (48, 64, 3)
        # JPEG loses a few levels, more on the frames' sensor noise
        assert np.abs(decoded - video.frames[2]).mean() < 5.0


def test_jhmdb_mat_is_stored_as_jhmdb_stores_it(tiny_set):
    out_dir, summary = tiny_set
    for index, name in enumerate(summary['val_videos']):
        video = _val_video(index)
        path = (out_dir / 'JHMDB' / 'joint_positions' / JHMDB_CLASS / name /
                'joint_positions.mat')
        assert path.read_bytes().startswith(MAT_HEADER_TEXT)
        mat = scipy.io.loadmat(path)
        pos_img = mat['pos_img']
        assert pos_img.shape == (2, 8, TINY['num_frames'])
        assert pos_img.dtype == np.float64
        chosen = np.isin(video.keypoint_object_ids, (1, 2))
        # MATLAB 1-based (x, y): subtract 1 as CRW does to get pixels.
        np.testing.assert_allclose(np.transpose(pos_img - 1, (2, 1, 0)),
                                   video.keypoints[:, chosen])
        assert mat['scale'].shape == (1, TINY['num_frames'])
        assert mat['viewpoint'].shape == (1, TINY['num_frames'])
        low, high = pos_img.min(axis=1), pos_img.max(axis=1)
        np.testing.assert_allclose(
            mat['pos_world'] * mat['scale'][None] +
            (low + high)[:, None, :] / 2, pos_img)


def test_vip_parts_read_back(tiny_set):
    out_dir, summary = tiny_set
    video = _val_video(0)
    name = summary['val_videos'][0]
    for t in range(TINY['num_frames']):
        parts = read_indexed_png(out_dir / 'VIP' / 'VIP_Fine' / 'Annotations' /
                                 'Category_ids' / name / f'{t + 1:012d}.png')
        np.testing.assert_array_equal(parts, video.part_masks[t])
        assert parts.max() < 20
        np.testing.assert_array_equal(parts > 0, video.instance_masks[t] > 0)


def test_reruns_are_byte_identical(tiny_set, tmp_path):
    out_dir, _ = tiny_set
    again = tmp_path / 'again'
    generate_synthetic_benchmark(again, **TINY)
    files = _tree(out_dir)
    assert _tree(again) == files
    match, mismatch, errors = filecmp.cmpfiles(out_dir,
                                               again,
                                               files,
                                               shallow=False)
    assert not mismatch and not errors
    assert len(match) == len(files)


def test_a_subset_regenerates_identically(tiny_set, tmp_path):
    out_dir, _ = tiny_set
    smaller = tmp_path / 'smaller'
    generate_synthetic_benchmark(smaller, **dict(TINY, num_train=1, num_val=1))
    for relative in ('YTVOS/train/JPEGImages/train_0000/00015.jpg',
                     'DAVIS/Annotations/480p/val_0000/00003.png',
                     'VIP/VIP_Fine/Images/val_0000/000000000002.jpg'):
        assert (smaller / relative).read_bytes() == (out_dir /
                                                     relative).read_bytes()
    other_seed = tmp_path / 'other_seed'
    generate_synthetic_benchmark(other_seed,
                                 **dict(TINY, num_train=1, num_val=1, seed=4))
    relative = 'DAVIS/JPEGImages/480p/val_0000/00000.jpg'
    assert (other_seed / relative).read_bytes() != (out_dir /
                                                    relative).read_bytes()


def test_non_empty_output_is_refused_unless_overwrite(tmp_path):
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    (out_dir / 'notes.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match='not empty.*--overwrite'):
        generate_synthetic_benchmark(out_dir, **dict(TINY, num_val=2))
    generate_synthetic_benchmark(out_dir,
                                 overwrite=True,
                                 **dict(TINY, num_val=2))
    assert (out_dir / 'DAVIS/JPEGImages/480p/val_0001').is_dir()
    generate_synthetic_benchmark(out_dir,
                                 overwrite=True,
                                 **dict(TINY, num_val=1))
    assert not (out_dir / 'DAVIS/JPEGImages/480p/val_0001').exists()
    assert (out_dir / 'notes.txt').read_text() == 'keep me'


def test_output_path_that_is_a_file_is_refused(tmp_path):
    path = tmp_path / 'file'
    path.write_text('')
    with pytest.raises(NotADirectoryError, match='is a file'):
        generate_synthetic_benchmark(path, **TINY)


@pytest.mark.parametrize(
    'text',
    ['128', '128x', 'x224', 'axb', '128x224x3', '-64x64', '12.5x64', ''])
def test_unparseable_sizes(text):
    with pytest.raises(ValueError, match='not of the form HxW'):
        parse_size(text)


def test_parse_size():
    assert parse_size('128x224') == (128, 224)
    assert parse_size('64X96') == (64, 96)
    with pytest.raises(ValueError, match='at least 32 pixels'):
        parse_size('16x64')


@pytest.mark.parametrize('change, message', [
    (dict(num_train=0), 'num_train must be at least 1'),
    (dict(num_val=0), 'num_val must be at least 1'),
    (dict(num_frames=2), 'num_frames must be at least 3'),
    (dict(size=(31, 64)), 'at least 32 pixels'),
    (dict(size=(64, 64, 3)), r'must be \(H, W\)'),
    (dict(seed=-1), 'seed must be a non-negative'),
])
def test_bad_arguments(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        generate_synthetic_benchmark(tmp_path / 'out', **dict(TINY, **change))
    assert not (tmp_path / 'out').exists()
