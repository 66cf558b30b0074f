"""Generating the whole synthetic benchmark under one output folder.

Default set (``--train 32 --val 6 --frames 20 --size 128x224``): 32
training videos and 6 validation videos of 20 frames at 128x224 pixels,
sized for training a tiny model on a CPU in minutes and evaluating it in
seconds; it renders and writes in a few seconds on one core.

Output (see :mod:`.layouts` for the exact file names)::

    OUT/synthetic_meta.json          generation arguments, videos, counts
    OUT/YTVOS/train/JPEGImages/      training videos
    OUT/DAVIS/                       validation videos, DAVIS-2017 layout
    OUT/JHMDB/                       the same videos, JHMDB keypoints
    OUT/VIP/VIP_Fine/                the same videos, VIP part classes

Every video has its own generator ``Generator(PCG64([seed, split, i]))``
(split 0 for training, 1 for validation), so a video depends only on the
seed, its split and its index: a smaller or larger set regenerates the
shared videos identically, and reruns are byte-identical.
"""
import json
import shutil
from pathlib import Path
from typing import Tuple, Union

import numpy as np

from .files import write_lines
from .layouts import (JHMDB_OBJECT_IDS, write_davis_image_sets,
                      write_davis_video, write_jhmdb_splits, write_jhmdb_video,
                      write_vip_lists, write_vip_video, write_ytvos_video)
from .render import RenderedVideo, render_video
from .sampling import KEYPOINTS_PER_OBJECT, MIN_SIDE, sample_scene
from .shapes import NUM_PART_CLASSES

DEFAULT_NUM_TRAIN = 32
DEFAULT_NUM_VAL = 6
DEFAULT_NUM_FRAMES = 20
DEFAULT_SIZE = (128, 224)
DEFAULT_SEED = 0
#: Shortest video: DAVIS semi-supervised evaluation drops the first and
#: the last frame.
MIN_FRAMES = 3
#: The top-level folders the generator owns inside ``OUT``.
OUTPUT_FOLDERS = ('YTVOS', 'DAVIS', 'JHMDB', 'VIP')
META_FILE = 'synthetic_meta.json'
#: Version of the scene sampling and rendering, recorded in the meta file:
#: bumped whenever the same arguments give other videos (2: low-contrast
#: backgrounds; 3: appearance changes over time and deforming objects), so
#: that tools can tell a stale set from the current one.
GENERATOR_VERSION = 3

_TRAIN_SPLIT, _VAL_SPLIT = 0, 1


def parse_size(text: str) -> Tuple[int, int]:
    """Parse ``'HxW'`` (e.g. ``'128x224'``) into ``(H, W)``.

    Raises:
        ValueError: If ``text`` is not two positive integers joined by
            ``x``, or a side is below :data:`MIN_SIDE`.
    """
    parts = str(text).lower().split('x')
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise ValueError(f'size {text!r} is not of the form HxW, e.g. '
                         "'128x224'")
    size = (int(parts[0]), int(parts[1]))
    _check_size(size)
    return size


def _check_size(size) -> None:
    if len(size) != 2:
        raise ValueError(f'frame size must be (H, W), got {tuple(size)}')
    if min(size) < MIN_SIDE:
        raise ValueError(f'frame size {tuple(size)} (H, W) is too small: '
                         f'each side must be at least {MIN_SIDE} pixels')


def _check_arguments(num_train: int, num_val: int, num_frames: int, size,
                     seed: int) -> None:
    for name, value in (('num_train', num_train), ('num_val', num_val)):
        if int(value) < 1:
            raise ValueError(f'{name} must be at least 1 video, got {value}')
    if int(num_frames) < MIN_FRAMES:
        raise ValueError(f'num_frames must be at least {MIN_FRAMES} (DAVIS '
                         'semi-supervised evaluation drops the first and '
                         f'last frames), got {num_frames}')
    if int(seed) < 0:
        raise ValueError(f'seed must be a non-negative integer, got {seed}')
    _check_size(size)


def video_rng(seed: int, split: int, index: int) -> np.random.Generator:
    """The generator of video ``index`` of ``split`` (0 train, 1 val)."""
    return np.random.Generator(np.random.PCG64([seed, split, index]))


def train_video_name(index: int) -> str:
    """Name of training video ``index``, e.g. ``'train_0003'``."""
    return f'train_{index:04d}'


def val_video_name(index: int) -> str:
    """Name of validation video ``index``, e.g. ``'val_0003'``."""
    return f'val_{index:04d}'


def render_synthetic_video(seed: int, split: int, index: int, num_frames: int,
                           size: Tuple[int, int]) -> RenderedVideo:
    """Sample and render one video of the benchmark in memory."""
    scene = sample_scene(video_rng(seed, split, index), size[0], size[1],
                         num_frames)
    return render_video(scene)


def prepare_output_dir(out_dir: Union[str, Path], overwrite: bool) -> Path:
    """Check ``out_dir`` and make it ready to receive a set.

    An absent or empty folder is used as is. A non-empty one is refused
    unless ``overwrite``, in which case the generator's own folders
    (:data:`OUTPUT_FOLDERS` and :data:`META_FILE`) are deleted first and
    anything else is left alone.

    Raises:
        NotADirectoryError: If ``out_dir`` is a file.
        FileExistsError: If ``out_dir`` is not empty and not
            ``overwrite``.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f'{out_dir}: output path is a file, not a '
                                 'folder')
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f'{out_dir}: output folder is not empty; choose an empty '
                'folder or pass overwrite=True (--overwrite) to replace '
                'the synthetic set in it')
        for name in OUTPUT_FOLDERS:
            if (out_dir / name).is_dir():
                shutil.rmtree(out_dir / name)
        (out_dir / META_FILE).unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def generate_synthetic_benchmark(out_dir: Union[str, Path],
                                 num_train: int = DEFAULT_NUM_TRAIN,
                                 num_val: int = DEFAULT_NUM_VAL,
                                 num_frames: int = DEFAULT_NUM_FRAMES,
                                 size: Tuple[int, int] = DEFAULT_SIZE,
                                 seed: int = DEFAULT_SEED,
                                 overwrite: bool = False) -> dict:
    """Generate the synthetic benchmark under ``out_dir``.

    Args:
        out_dir: Output folder (absent or empty, see
            :func:`prepare_output_dir`).
        num_train: Training videos (YouTube-VOS layout), at least 1.
        num_val: Validation videos (DAVIS, JHMDB and VIP layouts), at
            least 1.
        num_frames: Frames per video ``T``, at least :data:`MIN_FRAMES`.
        size: ``(H, W)`` frame size, each side at least :data:`MIN_SIDE`.
        seed: Seed of the whole set.
        overwrite: Replace a set already in ``out_dir``.

    Returns:
        dict: The summary also written to ``OUT/synthetic_meta.json``:
        :data:`GENERATOR_VERSION`, arguments, ``train_videos`` and
        ``val_videos`` names, ``num_objects`` per validation video,
        ``num_keypoints`` (``J``), ``num_part_classes``, ``num_files`` and
        the benchmark ``roots``
        (relative to ``out_dir``), plus ``out_dir`` itself (not written).

    Raises:
        ValueError: For a count, length, size or seed out of range.
        FileExistsError, NotADirectoryError: See
            :func:`prepare_output_dir`.
    """
    size = tuple(int(side) for side in size)
    _check_arguments(num_train, num_val, num_frames, size, seed)
    out_dir = prepare_output_dir(out_dir, overwrite)
    roots = {name: out_dir / name for name in OUTPUT_FOLDERS}
    train_names = [train_video_name(index) for index in range(num_train)]
    val_names = [val_video_name(index) for index in range(num_val)]
    for index, name in enumerate(train_names):
        video = render_synthetic_video(seed, _TRAIN_SPLIT, index, num_frames,
                                       size)
        write_ytvos_video(roots['YTVOS'], name, video)
    num_objects = {}
    for index, name in enumerate(val_names):
        video = render_synthetic_video(seed, _VAL_SPLIT, index, num_frames,
                                       size)
        num_objects[name] = int(video.instance_masks[0].max())
        write_davis_video(roots['DAVIS'], name, video)
        write_jhmdb_video(roots['JHMDB'], name, video)
        write_vip_video(roots['VIP'], name, video)
    write_davis_image_sets(roots['DAVIS'], val_names)
    write_jhmdb_splits(roots['JHMDB'], val_names)
    write_vip_lists(roots['VIP'], val_names)
    summary = {
        'generator_version': GENERATOR_VERSION,
        'seed': int(seed),
        'num_frames': int(num_frames),
        'size': list(size),
        'train_videos': train_names,
        'val_videos': val_names,
        'num_objects': num_objects,
        'num_keypoints': KEYPOINTS_PER_OBJECT * len(JHMDB_OBJECT_IDS),
        'num_part_classes': NUM_PART_CLASSES,
        'roots': dict(zip(OUTPUT_FOLDERS, OUTPUT_FOLDERS)),
    }
    summary['num_files'] = 1 + sum(1 for root in roots.values()
                                   for path in root.rglob('*')
                                   if path.is_file())
    write_lines(out_dir / META_FILE,
                json.dumps(summary, indent=2, sort_keys=True).splitlines())
    return dict(summary, out_dir=str(out_dir))
