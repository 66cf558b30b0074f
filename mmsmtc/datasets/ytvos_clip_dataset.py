"""YouTube-VOS training clips for self-supervised training (no labels)."""
from pathlib import Path
from typing import List

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmsmtc.registry import DATASETS
from .video_listing import list_frame_files

#: Clip samplers of the official training loaders (see
#: :func:`sample_clip_indices`).
CLIP_SAMPLING = ('smtc', 'bba', 'offset')


def sample_clip_indices(num_video_frames: int, num_frames: int, gap: int,
                        rng=np.random, sampling: str = 'smtc') -> List[int]:
    """Sample the frame positions of one clip, as the official SMTC does.

    Reproduces ``Dataloader.__getitem__`` of ``shvdiwnkozbw/SMTC``
    ``src/data.py`` (training branch): with ``L`` frames, ``T = num_frames``
    and stride ``g = gap``, the clip centre ``c`` is drawn uniformly from
    ``[(g * T) // 2, L - (g * T) // 2 - 1]`` (both ends included) and the
    clip is ``c + g * (i - T // 2)`` for ``i = 0..T-1``, i.e. for SMTC's
    T = 4, g = 4: ``c - 8, c - 4, c, c + 4``. When the range is empty or a
    single point the official code lowers the stride by one, once; videos
    still too short would crash there (or, from stride 1, repeat one frame),
    here the stride keeps decreasing, down to 1, instead.

    ``sampling='bba'`` follows Betrayed by Attention's loader
    (``shvdiwnkozbw/SSL-UVOS`` ``src/data.py``) instead: the centre is drawn
    from ``[g * (T // 2), L - g * (T // 2) - 1]`` (for its T = 3:
    ``c - g, c, c + g`` with ``c`` in ``[g, L - g - 1]``), the stride being
    lowered by one while that range holds fewer than two positions.
    ``sampling='offset'`` is VFS / Spa-then-Temp's
    (:func:`sample_offset_clip_indices`).

    Args:
        num_video_frames: ``L``, frames in the video.
        num_frames: ``T``, frames per clip.
        gap: ``g``, the temporal stride.
        rng: A ``numpy.random`` module or ``RandomState`` offering
            ``randint``; the global NumPy RNG (seeded per worker by
            MMEngine's ``randomness`` setting) by default.
        sampling: ``'smtc'`` (default), ``'bba'`` or ``'offset'``.

    Returns:
        list[int]: ``T`` increasing frame positions in ``[0, L)``.

    Raises:
        ValueError: If even stride 1 does not fit
            (``L < 2 * (T // 2) + 1``).
    """
    if sampling not in CLIP_SAMPLING:
        raise ValueError(f'sampling must be one of {CLIP_SAMPLING}, got '
                         f'{sampling!r}')
    if sampling == 'bba':
        return _sample_bba_clip(num_video_frames, num_frames, gap, rng)
    if sampling == 'offset':
        return sample_offset_clip_indices(num_video_frames, num_frames, gap,
                                          rng)
    low = (gap * num_frames) // 2
    stride = gap - 1 if low >= num_video_frames - low - 1 and gap > 1 else gap
    while stride >= 1:
        low = (stride * num_frames) // 2
        high = num_video_frames - low - 1
        if low <= high:
            centre = int(rng.randint(low, high + 1))
            return [centre + stride * (i - num_frames // 2)
                    for i in range(num_frames)]
        stride -= 1
    raise ValueError(
        f'a video of {num_video_frames} frames is too short for a clip of '
        f'{num_frames} frames (needs {min_video_frames(num_frames)})')


def _sample_bba_clip(num_video_frames: int, num_frames: int, gap: int,
                     rng) -> List[int]:
    """Betrayed by Attention's clip positions (see
    :func:`sample_clip_indices`)."""
    half = num_frames // 2
    for stride in range(gap, 0, -1):
        low, high = stride * half, num_video_frames - stride * half - 1
        if low < high:
            centre = int(rng.randint(low, high + 1))
            return [centre + stride * (i - half) for i in range(num_frames)]
    raise ValueError(
        f'a video of {num_video_frames} frames is too short for a clip of '
        f'{num_frames} frames (needs '
        f'{min_video_frames(num_frames, sampling="bba")})')


def sample_offset_clip_indices(num_video_frames: int, num_frames: int,
                               gap: int, rng=np.random) -> List[int]:
    """Sample the frame positions of one clip, as VFS / Spa-then-Temp do.

    ``VideoDataset.temporal_sampling(mode='random')`` of
    ``qianduoduolr/Spa-then-Temp`` (``vcl/datasets/video_dataset.py``, one
    clip): the first frame ``o`` is uniform in ``[0, L - T * g]`` (both
    ends included) and the clip is ``o + g * i`` for ``i = 0..T-1``; for
    Spa-then-Temp's ``T = 2``, ``g = 1``: two consecutive frames of the
    list (5 raw frames apart in YouTube-VOS).

    Raises:
        ValueError: If ``L < T * g``.
    """
    if num_video_frames < num_frames * gap:
        raise ValueError(
            f'a video of {num_video_frames} frames is too short for a clip '
            f'of {num_frames} frames at stride {gap} (needs '
            f'{num_frames * gap})')
    start = int(rng.randint(0, num_video_frames - num_frames * gap + 1))
    return [start + gap * i for i in range(num_frames)]


def min_video_frames(num_frames: int, gap: int = 1,
                     sampling: str = 'smtc') -> int:
    """Fewest frames a video needs for a clip of ``num_frames``: at stride 1
    ``2 * (num_frames // 2) + 1`` for the SMTC sampler (which lowers the
    stride), one more with ``'bba'`` (its centre range must hold two
    positions), ``num_frames * gap`` for the offset sampler."""
    if sampling == 'offset':
        return num_frames * gap
    return 2 * (num_frames // 2) + 1 + int(sampling == 'bba')


@DATASETS.register_module()
class YTVOSClipDataset(BaseDataset):
    """Unlabelled clips from YouTube-VOS training videos.

    Layout: ``<data_root>/<data_prefix.img>/<video>/NNNNN.jpg`` (default
    ``train/JPEGImages``); annotations are never read. One sample per video
    (3471 in YouTube-VOS-2018 train); each access draws a new clip with
    :func:`sample_clip_indices`. The official script instead draws a video
    uniformly at random for each of 10000 samples per "epoch"; with an
    infinite shuffled sampler both draw videos uniformly. Videos too short
    for a clip at stride 1 are dropped with a logged warning.

    Args:
        data_root: The YTVOS folder.
        num_frames: Frames per clip (SMTC: 4; Spa-then-Temp: 2).
        gap: Temporal stride (SMTC: 4; Spa-then-Temp: 1).
        sampling: ``'smtc'``, ``'bba'`` or ``'offset'`` (VFS /
            Spa-then-Temp); see :func:`sample_clip_indices`.
        data_prefix: ``dict(img=...)``, the frame folder.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments.

    ``data_info`` (after :meth:`get_data_info`) holds ``video_name``,
    ``frame_paths`` (the clip's T files), ``frame_names`` and
    ``frame_indices`` (their positions in the video).

    Raises:
        FileNotFoundError: If the frame folder does not exist.
        ValueError: If no video is long enough, or a video is empty.
    """

    METAINFO = dict(dataset_name='YouTube-VOS train')

    def __init__(self,
                 data_root: str,
                 num_frames: int = 4,
                 gap: int = 4,
                 sampling: str = 'smtc',
                 data_prefix=None,
                 **kwargs) -> None:
        if num_frames < 1 or gap < 1:
            raise ValueError(f'num_frames and gap must be >= 1, got '
                             f'{num_frames} and {gap}')
        if sampling not in CLIP_SAMPLING:
            raise ValueError(f'sampling must be one of {CLIP_SAMPLING}, got '
                             f'{sampling!r}')
        self.num_frames = num_frames
        self.gap = gap
        self.sampling = sampling
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix or dict(img='train/JPEGImages'),
            **kwargs)

    def load_data_list(self) -> List[dict]:
        frame_root = Path(self.data_prefix['img'])
        if not frame_root.is_dir():
            raise FileNotFoundError(
                f'{frame_root}: YouTube-VOS frame folder does not exist')
        data_list, too_short = [], []
        needed = min_video_frames(self.num_frames, self.gap, self.sampling)
        for video_dir in sorted(p for p in frame_root.iterdir() if p.is_dir()):
            frames = list_frame_files(video_dir, ('.jpg', '.jpeg'))
            if len(frames) < needed:
                too_short.append(video_dir.name)
                continue
            data_list.append(
                dict(video_name=video_dir.name,
                     video_frame_paths=[str(path) for path in frames]))
        if too_short:
            print_log(
                f'{frame_root}: dropped {len(too_short)} videos with fewer '
                f'than {needed} frames: '
                f'{too_short[:10]}',
                logger='current', level=30)
        if not data_list:
            raise ValueError(
                f'{frame_root}: no video with at least {needed} frames')
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """Draw a clip of video ``idx`` (see the class docstring)."""
        info = super().get_data_info(idx)
        video_frame_paths = info.pop('video_frame_paths')
        indices = sample_clip_indices(
            len(video_frame_paths), self.num_frames, self.gap,
            sampling=self.sampling)
        info['frame_indices'] = indices
        info['frame_paths'] = [video_frame_paths[i] for i in indices]
        info['frame_names'] = [Path(p).stem for p in info['frame_paths']]
        return info
