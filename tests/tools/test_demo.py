"""The demos on real videos: tools/demo/{discover,propagate}.py and the
video reading/writing and inference helpers they are made of. ``judo`` is
the vendored copy (6 frames at 240x427, tests/data/README.md); a few cheap
tests also read the original 480x854 frames of ``../shared/data``."""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from mmsmtc.apis import (init_video_segmentor, open_video, read_first_mask,
                         segment_video, video_io, video_name_from_path,
                         write_overlay_video)
from mmsmtc.datasets.frame_io import read_rgb_frame
from mmsmtc.utils import DAVIS_PALETTE, write_indexed_png

REPO = Path(__file__).resolve().parents[2]
PROPAGATION_CONFIG = str(
    REPO / 'configs/smtc_test/labelprop_vit-tiny_synthetic-davis17-semi.py')
DISCOVERY_CONFIG = str(
    REPO /
    'configs/smtc_test/discovery_smtc-vit-tiny_synthetic-davis17-unsup.py')
KEYPOINT_CONFIG = str(
    REPO / 'configs/smtc_test/labelprop_vit-tiny_synthetic-jhmdb.py')


@pytest.fixture(scope='module')
def judo(vendored_data) -> Path:
    return vendored_data / 'videos' / 'judo'


@pytest.fixture(params=['vendored_data', 'shared_data'])
def any_judo(request) -> Path:
    """The vendored judo (240x427) and, when present, the original
    (480x854, its 00005.png one column short)."""
    return request.getfixturevalue(request.param) / 'videos' / 'judo'


def write_mp4(path: Path, frames) -> Path:
    """An mp4v video of RGB frames (the format users bring)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10,
                             (width, height))
    assert writer.isOpened(), 'OpenCV cannot write mp4v here'
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def small_judo_frames(judo: Path, count: int, size=(128, 224)):
    return [
        cv2.resize(read_rgb_frame(path), size[::-1],
                   interpolation=cv2.INTER_AREA)
        for path in sorted((judo / 'JPEGImages').glob('*.jpg'))[:count]
    ]


def check_mask_folder(mask_dir: Path, names, allowed_ids) -> None:
    assert sorted(p.stem for p in mask_dir.glob('*.png')) == list(names)
    for name in names:
        with Image.open(mask_dir / f'{name}.png') as image:
            assert image.mode == 'P'
            palette = np.array(image.getpalette()[:768]).reshape(-1, 3)
            ids = np.array(image)
        np.testing.assert_array_equal(palette, DAVIS_PALETTE[:len(palette)])
        assert set(np.unique(ids)) <= set(allowed_ids)


def count_video_frames(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.grab():
        count += 1
    capture.release()
    return count


def run_demo(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'demo' / script), *args],
        cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_propagate_demo_on_judo_frames(judo, tmp_path):
    first = judo / 'Annotations' / '00000.png'
    result = run_demo('propagate.py', str(judo / 'JPEGImages'),
                      PROPAGATION_CONFIG, 'none', '--first-mask', str(first),
                      '--out', str(tmp_path), '--max-frames', '3',
                      '--max-side', '240', '--device', 'cpu')
    assert result.returncode == 0, result.stdout + result.stderr
    first_ids = np.unique(np.array(Image.open(first)))
    check_mask_folder(tmp_path / 'masks', ['00000', '00001', '00002'],
                      first_ids)
    with Image.open(tmp_path / 'masks' / '00000.png') as image:
        assert image.size == (240, 135)
    assert count_video_frames(tmp_path / 'overlay.mp4') == 3
    assert (tmp_path / 'demo.log').is_file()


@pytest.mark.slow
def test_discover_demo_on_mp4(judo, tmp_path):
    video = write_mp4(tmp_path / 'judo.mp4', small_judo_frames(judo, 5))
    out = tmp_path / 'out'
    result = run_demo('discover.py', str(video), DISCOVERY_CONFIG, 'none',
                      '--out', str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    names = [f'{index:05d}' for index in range(5)]
    check_mask_folder(out / 'masks', names, range(21))
    with Image.open(out / 'masks' / '00004.png') as image:
        assert image.size == (224, 128)
    assert count_video_frames(out / 'overlay.mp4') == 5


@pytest.mark.slow
@pytest.mark.parametrize('config', [
    'configs/videosaur_test/'
    'discovery_videosaur-vit-tiny_synthetic-davis17-unsup.py',
    'configs/bba_test/discovery_bba-vit-tiny_synthetic-davis17-unsup.py',
])
def test_discover_demo_runs_the_other_methods(judo, tmp_path, config):
    """VideoSAUR (slots carried across clips) and Betrayed by Attention
    (video-level clustering) through the same demo as SMTC."""
    out = tmp_path / 'out'
    result = run_demo('discover.py', str(judo / 'JPEGImages'),
                      str(REPO / config), 'none', '--out', str(out),
                      '--max-frames', '4', '--max-side', '120')
    assert result.returncode == 0, result.stdout + result.stderr
    names = [f'{index:05d}' for index in range(4)]
    check_mask_folder(out / 'masks', names, range(21))
    with Image.open(out / 'masks' / '00003.png') as image:
        assert image.size == (120, 67)
    assert count_video_frames(out / 'overlay.mp4') == 4


@pytest.mark.slow
def test_demo_reports_bad_input_without_traceback(judo, tmp_path):
    mask = np.ones((100, 100), np.uint8)
    write_indexed_png(tmp_path / 'other.png', mask)
    result = run_demo('propagate.py', str(judo / 'JPEGImages'),
                      PROPAGATION_CONFIG, 'none', '--first-mask',
                      str(tmp_path / 'other.png'), '--out',
                      str(tmp_path / 'out'))
    assert result.returncode == 1
    assert result.stderr.startswith('error: ')
    assert 'other.png: mask size 100x100' in result.stderr
    assert result.stderr.count('\n') == 1
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('script, argv, message', [
    ('discover.py', ['VIDEO', 'CONFIG'],
     'the following arguments are required: checkpoint'),
    ('propagate.py', ['VIDEO', 'CONFIG', 'none'],
     'the following arguments are required: --first-mask'),
    ('discover.py', ['VIDEO', 'CONFIG', 'none', '--device', 'gpu'],
     "argument --device: 'gpu': expected cpu, cuda or cuda:N"),
])
def test_demo_usage_errors_exit_2(script, argv, message):
    result = run_demo(script, *argv)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith(
        f'usage: {script} [-h] ')
    assert message in result.stderr.splitlines()[-1]


def test_demo_missing_config_is_one_line(judo, tmp_path):
    result = run_demo('discover.py', str(judo / 'JPEGImages'),
                      str(tmp_path / 'nope.py'), 'none', '--out',
                      str(tmp_path / 'out'))
    assert result.returncode == 1
    assert result.stderr == f'error: {tmp_path / "nope.py"}: config file ' \
        'does not exist\n'


def test_open_frame_folder_is_lazy_and_sorted(any_judo):
    frames, names, _ = open_video(any_judo / 'JPEGImages', max_frames=4)
    assert names == ['00000', '00001', '00002', '00003']
    height, width = frames.shape[1:3]
    assert frames.shape == (4, height, width, 3)
    assert (height, width) in ((240, 427), (480, 854))
    np.testing.assert_array_equal(
        frames[2], read_rgb_frame(any_judo / 'JPEGImages' / '00002.jpg'))
    small, _, _ = open_video(any_judo / 'JPEGImages', max_frames=2,
                             max_side=width // 2)
    assert small[0:2].shape == (2, height // 2, width // 2, 3)
    assert small.source_shape == (height, width)


def test_open_mp4_counts_frames_and_reads_backwards(judo, tmp_path):
    video = write_mp4(tmp_path / 'clip.mp4', small_judo_frames(judo, 6))
    frames, names, fps = open_video(video)
    assert len(frames) == 6 and names[-1] == '00005' and fps == 10
    forwards = frames[:]
    assert forwards.shape == (6, 128, 224, 3)
    np.testing.assert_array_equal(frames[1], forwards[1])
    np.testing.assert_array_equal(frames[[4, 2]], forwards[[4, 2]])
    assert not np.array_equal(forwards[0], forwards[5])
    short, names, _ = open_video(video, max_frames=2, max_side=112)
    assert names == ['00000', '00001'] and short.shape == (2, 64, 112, 3)


def test_1080p_video_downscaled_with_its_first_mask(shared_data):
    video = shared_data / 'videos' / '1001_3iEIq5HBY1s'
    frames, names, _ = open_video(video / 'JPEGImages', max_frames=2,
                                  max_side=320)
    assert frames.shape == (2, 180, 320, 3)
    first = sorted((video / 'Annotations').glob('*.png'))[0]
    mask = read_first_mask(first, frames)
    original = np.unique(np.array(Image.open(first)))
    assert mask.shape == (180, 320)
    assert set(np.unique(mask)) <= set(original)
    assert len(np.unique(mask)) > 10


def test_first_mask_repaired_when_one_pixel_off(any_judo):
    frames, _, _ = open_video(any_judo / 'JPEGImages', max_frames=1)
    path = any_judo / 'Annotations' / '00005.png'
    with Image.open(path) as image:
        assert image.size == (frames.shape[2] - 1, frames.shape[1])
    mask = read_first_mask(path, frames)
    assert mask.shape == frames.shape[1:3] and mask.any()


def test_propagation_keeps_arbitrary_ids(tmp_path):
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
    folder = tmp_path / 'frames'
    folder.mkdir()
    for index in range(3):
        Image.fromarray(np.roll(frame, 2 * index, axis=1)).save(
            folder / f'f{index}.png')
    first = np.zeros((64, 96), np.uint8)
    first[8:32, 8:40], first[30:60, 50:90] = 3, 7
    write_indexed_png(tmp_path / 'first.png', first)
    frames, names, _ = open_video(folder)
    mask = read_first_mask(tmp_path / 'first.png', frames)
    model = init_video_segmentor(PROPAGATION_CONFIG, 'none', 'propagation',
                                 'cpu')
    masks = segment_video(model, frames, names, 'random', mask)
    assert masks.shape == (3, 64, 96) and masks.dtype == np.uint8
    assert set(np.unique(masks)) <= {0, 3, 7}
    assert {3, 7} <= set(np.unique(masks[0]))


def test_overlay_falls_back_to_png_frames(tmp_path, monkeypatch):

    class NoCodec:

        def __init__(self, *args):
            pass

        def isOpened(self):
            return False

    monkeypatch.setattr(video_io.cv2, 'VideoWriter', NoCodec)
    images = [np.full((8, 10, 3), value, np.uint8) for value in (0, 255)]
    target = write_overlay_video(tmp_path / 'overlay.mp4', images,
                                 ['a', 'b'], fps=5)
    assert target == tmp_path / 'overlay'
    assert sorted(p.name for p in target.iterdir()) == ['a.png', 'b.png']
    assert not (tmp_path / 'overlay.mp4').exists()


def test_missing_video(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.mp4: video file'):
        open_video(tmp_path / 'missing.mp4')


def test_unreadable_video(tmp_path):
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video' * 100)
    with pytest.raises(ValueError, match='broken.mp4: not a readable video'):
        open_video(broken)


def test_empty_frame_folder(tmp_path):
    (tmp_path / 'notes.txt').write_text('no frames')
    with pytest.raises(FileNotFoundError, match='holds no'):
        open_video(tmp_path)


def test_bad_frame_limits(judo):
    with pytest.raises(ValueError, match='max_frames'):
        open_video(judo / 'JPEGImages', max_frames=0)
    with pytest.raises(ValueError, match='max_side'):
        open_video(judo / 'JPEGImages', max_side=0)


def test_frame_of_another_size_in_folder(judo, tmp_path):
    for index, size in enumerate([(20, 30), (20, 31)]):
        Image.fromarray(np.zeros((*size, 3), np.uint8)).save(
            tmp_path / f'{index}.png')
    frames, _, _ = open_video(tmp_path)
    with pytest.raises(ValueError, match=r'1.png: frame size 20x31'):
        frames[1]


def test_first_mask_of_another_size(judo, tmp_path):
    frames, _, _ = open_video(judo / 'JPEGImages', max_frames=1)
    mask = np.zeros((120, 213), np.uint8)
    mask[10:20, 10:20] = 1
    write_indexed_png(tmp_path / 'small.png', mask)
    with pytest.raises(ValueError, match='small.png: mask size 120x213'):
        read_first_mask(tmp_path / 'small.png', frames)


def test_first_mask_without_object(judo, tmp_path):
    frames, _, _ = open_video(judo / 'JPEGImages', max_frames=1)
    write_indexed_png(tmp_path / 'empty.png', np.zeros((240, 427), np.uint8))
    with pytest.raises(ValueError, match='empty.png: the first mask holds no'):
        read_first_mask(tmp_path / 'empty.png', frames)


def test_first_mask_missing_or_rgb(judo, tmp_path):
    frames, _, _ = open_video(judo / 'JPEGImages', max_frames=1)
    with pytest.raises(FileNotFoundError, match='nowhere.png'):
        read_first_mask(tmp_path / 'nowhere.png', frames)
    Image.fromarray(np.zeros((240, 427, 3), np.uint8)).save(tmp_path /
                                                            'rgb.png')
    with pytest.raises(ValueError, match='rgb.png'):
        read_first_mask(tmp_path / 'rgb.png', frames)


def test_config_of_another_task():
    with pytest.raises(ValueError, match='not a discovery config'):
        init_video_segmentor(PROPAGATION_CONFIG, 'none', 'discovery', 'cpu')
    with pytest.raises(ValueError, match='not a propagation config'):
        init_video_segmentor(DISCOVERY_CONFIG, 'none', 'propagation', 'cpu')
    with pytest.raises(ValueError, match='propagates keypoints'):
        init_video_segmentor(KEYPOINT_CONFIG, 'none', 'propagation', 'cpu')
    with pytest.raises(ValueError, match='task must be one of'):
        init_video_segmentor(DISCOVERY_CONFIG, 'none', 'tracking', 'cpu')


def test_video_names(judo, tmp_path):
    assert video_name_from_path(judo / 'JPEGImages') == 'judo'
    assert video_name_from_path(judo) == 'judo'
    (tmp_path / 'holiday.mp4').write_bytes(b'')
    assert video_name_from_path(tmp_path / 'holiday.mp4') == 'holiday'


@pytest.mark.skipif(torch.cuda.is_available(), reason='CUDA is available')
def test_cuda_asked_without_cuda():
    with pytest.raises(ValueError, match='CUDA is not available'):
        init_video_segmentor(DISCOVERY_CONFIG, 'none', 'discovery', 'cuda')


def test_missing_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pth: checkpoint'):
        init_video_segmentor(DISCOVERY_CONFIG, str(tmp_path / 'nothing.pth'),
                             'discovery', 'cpu')
