"""Writing rendered videos in the official dataset layouts.

Paths are relative to the benchmark's root (``OUT/YTVOS``, ``OUT/DAVIS``,
``OUT/JHMDB``, ``OUT/VIP``):

- YouTube-VOS: ``train/JPEGImages/<video>/NNNNN.jpg``; frames are named
  like YouTube-VOS's 6-fps frames, ``00000, 00005, 00010, ...``.
  Annotations are not written (self-supervised training never reads them).
- DAVIS-2017: ``JPEGImages/480p/<seq>/NNNNN.jpg`` and the same stems in
  ``Annotations/480p`` and ``Annotations_unsupervised/480p`` (indexed PNGs,
  DAVIS palette, every frame annotated; both folders hold the same
  instance ids ``1..K``). The folder keeps the name ``480p`` although the
  frames are smaller, so DAVIS readers work unchanged.
  ``ImageSets/{2016,2017}/val.txt`` list the sequences and
  ``ImageSets/{2016,2017}/train.txt`` are present but empty (training
  videos live in the YouTube-VOS part).
- JHMDB: ``Rename_Images/<class>/<video>/NNNNN.png`` (1-based, ``00001``),
  ``joint_positions/<class>/<video>/joint_positions.mat``, the official
  split file ``splits/<class>_test_split1.txt`` (lines
  ``<video>.avi 2``, 2 = test) and the CRW-style list
  ``testlist_split1.txt`` (lines ``Rename_Images/<class>/<video>
  joint_positions/<class>/<video>/joint_positions.mat``, relative to the
  JHMDB root, as read by ajabri/videowalk ``code/data/jhmdb.py``).
- VIP: ``VIP_Fine/Images/<video>/<frame>.jpg`` and
  ``VIP_Fine/Annotations/Category_ids/<video>/<frame>.png`` (class-id
  PNGs, every frame annotated) with 12-digit 1-based frame names, and
  ``VIP_Fine/lists/val_videos.txt``.
"""
from pathlib import Path
from typing import Sequence

import numpy as np

from mmsmtc.utils import write_indexed_png
from .files import write_lines, write_mat_file, write_rgb_image
from .render import RenderedVideo

#: The one action class folder of the synthetic JHMDB part.
JHMDB_CLASS = 'moving_shapes'
#: The objects whose keypoints are written to JHMDB (every scene has at
#: least two objects, so every video has the same ``J``).
JHMDB_OBJECT_IDS = (1, 2)
#: JHMDB's split-file label of a test video.
JHMDB_TEST_LABEL = 2
#: Frame-number step of YouTube-VOS frame names.
YTVOS_FRAME_STEP = 5


def write_ytvos_video(root: Path, name: str, video: RenderedVideo) -> None:
    """Write the frames of a training video under ``root`` (``OUT/YTVOS``)."""
    folder = Path(root) / 'train' / 'JPEGImages' / name
    for index, frame in enumerate(video.frames):
        write_rgb_image(folder / f'{index * YTVOS_FRAME_STEP:05d}.jpg', frame)


def write_davis_video(root: Path, name: str, video: RenderedVideo) -> None:
    """Write frames and both annotation folders of a DAVIS sequence."""
    root = Path(root)
    for index, (frame,
                ids) in enumerate(zip(video.frames, video.instance_masks)):
        stem = f'{index:05d}'
        write_rgb_image(root / 'JPEGImages' / '480p' / name / f'{stem}.jpg',
                        frame)
        for annotations in ('Annotations', 'Annotations_unsupervised'):
            write_indexed_png(
                root / annotations / '480p' / name / f'{stem}.png', ids)


def write_davis_image_sets(root: Path, val_names: Sequence[str]) -> None:
    """Write ``ImageSets/{2016,2017}/{train,val}.txt`` (train empty)."""
    for year in ('2016', '2017'):
        folder = Path(root) / 'ImageSets' / year
        write_lines(folder / 'train.txt', [])
        write_lines(folder / 'val.txt', val_names)


def jhmdb_joint_positions(video: RenderedVideo) -> dict:
    """The variables of a JHMDB ``joint_positions.mat``.

    Returns:
        dict: ``pos_img`` ``(2, J, T)`` float64 1-based MATLAB pixel
        coordinates ``(x, y)`` of the keypoints of
        :data:`JHMDB_OBJECT_IDS` (``J = KEYPOINTS_PER_OBJECT *
        len(JHMDB_OBJECT_IDS)``, 8 by default,
        occluded points included, as JHMDB annotates hidden joints);
        ``scale`` ``(1, T)``: half the diagonal of the joints' tight box in
        pixels; ``pos_world`` ``(2, J, T)``: ``pos_img`` relative to the
        box centre divided by ``scale``; ``viewpoint`` ``(1, T)`` cell of
        ``'front'``.
    """
    chosen = np.isin(video.keypoint_object_ids, JHMDB_OBJECT_IDS)
    points = video.keypoints[:, chosen, :] + 1.0
    pos_img = np.transpose(points, (2, 1, 0))
    low, high = pos_img.min(axis=1), pos_img.max(axis=1)
    scale = 0.5 * np.hypot(*(high - low))
    pos_world = (pos_img - 0.5 * (low + high)[:, None, :]) / scale
    viewpoint = np.empty((1, pos_img.shape[2]), dtype=object)
    viewpoint[:] = 'front'
    return {
        'pos_img': pos_img,
        'pos_world': pos_world,
        'scale': scale[None, :],
        'viewpoint': viewpoint,
    }


def write_jhmdb_video(root: Path, name: str, video: RenderedVideo) -> None:
    """Write the PNG frames and ``joint_positions.mat`` of a video."""
    root = Path(root)
    folder = root / 'Rename_Images' / JHMDB_CLASS / name
    for index, frame in enumerate(video.frames):
        write_rgb_image(folder / f'{index + 1:05d}.png', frame)
    write_mat_file(
        root / 'joint_positions' / JHMDB_CLASS / name / 'joint_positions.mat',
        jhmdb_joint_positions(video))


def write_jhmdb_splits(root: Path, names: Sequence[str]) -> None:
    """Write the split-1 test lists (official and CRW-style)."""
    root = Path(root)
    write_lines(root / 'splits' / f'{JHMDB_CLASS}_test_split1.txt',
                [f'{name}.avi {JHMDB_TEST_LABEL}' for name in names])
    write_lines(root / 'testlist_split1.txt', [
        f'Rename_Images/{JHMDB_CLASS}/{name} '
        f'joint_positions/{JHMDB_CLASS}/{name}/joint_positions.mat'
        for name in names
    ])


def write_vip_video(root: Path, name: str, video: RenderedVideo) -> None:
    """Write frames and class-id PNGs under ``root`` (``OUT/VIP``)."""
    fine = Path(root) / 'VIP_Fine'
    for index, (frame, parts) in enumerate(zip(video.frames,
                                               video.part_masks)):
        stem = f'{index + 1:012d}'
        write_rgb_image(fine / 'Images' / name / f'{stem}.jpg', frame)
        write_indexed_png(
            fine / 'Annotations' / 'Category_ids' / name / f'{stem}.png',
            parts)


def write_vip_lists(root: Path, names: Sequence[str]) -> None:
    """Write ``VIP_Fine/lists/val_videos.txt``."""
    write_lines(Path(root) / 'VIP_Fine' / 'lists' / 'val_videos.txt', names)
