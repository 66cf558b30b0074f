"""VideoSAUR's data transforms on shard samples (MOVi, YT-VIS, COCO).

Reproduce ``videosaur/data/transforms.py`` of martius-lab/videosaur:

- frames: ``uint8 / 255`` -> (centre crop of the full short side) ->
  ``F.interpolate(mode='bicubic', align_corners=False)`` -> clamp to
  ``[0, 1]``; training also: short-side resize + one random square crop
  for the whole clip, horizontal flip (:class:`ClipRandomFlip`).
- ground truth: the same crop, then ``nearest-exact`` to the mask size.

Frames leave as float32 ``(T, H, W, 3)`` on the 0-255 scale (``x * 255``
of the clamped values, not rounded), so the model's
``VideoDataPreprocessor`` with the ImageNet mean and std on the 0-255
scale normalises them as the official ``Normalize`` (to float rounding).
Randomness (chunk, crop, flip) comes from the global NumPy RNG, which
MMEngine seeds per data-loader worker from ``randomness=dict(seed=...)``.
"""
import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmsmtc.registry import TRANSFORMS
from mmsmtc.structures import VideoDataSample
from ..shards import ShardFormatError, read_npy_member

#: Ground-truth id of pixels left out of scoring (overlaps).
VOID_ID = 255
SEGMENTATION_LAYOUTS = ('movi', 'ytvis', 'coco')


def _size_pair(size, name: str) -> Optional[Tuple[int, int]]:
    if size is None:
        return None
    if isinstance(size, int):
        size = (size, size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f'{name} must be an int or (H, W) of positive ints, '
                         f'got {size!r}')
    return int(size[0]), int(size[1])


def short_side_size(height: int, width: int, short: int) -> Tuple[int, int]:
    """``(H', W')`` with the short side ``short``, the long side
    ``floor(long / short_in * short)`` (VideoSAUR's ``scale_short_side``)."""
    if width < height:
        return int(math.floor(float(height) / width * short)), short
    return short, int(math.floor(float(width) / height * short))


def center_square_box(height: int, width: int) -> Tuple[int, int, int]:
    """``(top, left, side)`` of the centred square of the full short side,
    offsets ``int(round(diff / 2))`` as torchvision's ``center_crop``."""
    side = min(height, width)
    return (int(round((height - side) / 2.0)), int(round(
        (width - side) / 2.0)), side)


def resize_frames_bicubic(frames: np.ndarray, size: Sequence[int],
                          clamp: bool = True) -> np.ndarray:
    """VideoSAUR's frame resize: ``(T, H, W, 3)`` uint8 (or ``[0, 1]``
    float) -> ``(T, h, w, 3)`` float32 in ``[0, 1]``.

    ``F.interpolate(mode='bicubic', align_corners=False)`` without
    anti-aliasing on ``frames / 255`` in float32, then clamped.
    """
    clip = torch.from_numpy(np.ascontiguousarray(frames))
    if clip.dtype == torch.uint8:
        clip = clip.float() / 255.0
    clip = clip.float().permute(0, 3, 1, 2)
    if tuple(clip.shape[-2:]) != tuple(size):
        clip = F.interpolate(
            clip, size=tuple(size), mode='bicubic', align_corners=False)
    if clamp:
        clip = clip.clamp(0, 1)
    return clip.permute(0, 2, 3, 1).contiguous().numpy()


def resize_ids_nearest_exact(ids: np.ndarray,
                             size: Sequence[int]) -> np.ndarray:
    """``(T, H, W)`` integer ids -> ``(T, h, w)`` by ``nearest-exact``."""
    if tuple(ids.shape[-2:]) == tuple(size):
        return ids
    tensor = torch.from_numpy(np.ascontiguousarray(ids))[:, None]
    resized = F.interpolate(tensor, size=tuple(size), mode='nearest-exact')
    return resized[:, 0].numpy()


@TRANSFORMS.register_module()
class SampleAlignedChunk(BaseTransform):
    """Pick one of a video's aligned chunks at random (training).

    VideoSAUR splits a video of ``T`` frames into ``T // chunk_len``
    aligned, non-overlapping chunks and keeps one at random per pass.

    Required Keys:
        - num_frames (int)

    Added Keys:
        - frame_range (tuple[int, int]): ``(start, stop)``.
        - frame_indices (list[int]): ``start .. stop - 1``.

    Args:
        chunk_len (int): Frames per chunk (VideoSAUR: 4).
    """

    def __init__(self, chunk_len: int = 4) -> None:
        if chunk_len < 1:
            raise ValueError(f'chunk_len must be >= 1, got {chunk_len}')
        self.chunk_len = chunk_len

    def transform(self, results: Dict) -> Dict:
        num_chunks = results['num_frames'] // self.chunk_len
        if num_chunks < 1:
            raise ValueError(f'{results.get("video_name")}: '
                             f'{results["num_frames"]} frames, fewer than a '
                             f'chunk of {self.chunk_len}')
        start = int(np.random.randint(num_chunks)) * self.chunk_len
        results['frame_range'] = (start, start + self.chunk_len)
        results['frame_indices'] = list(range(start, start + self.chunk_len))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(chunk_len={self.chunk_len})'


@TRANSFORMS.register_module()
class LoadShardSample(BaseTransform):
    """Read a shard sample's frames (and ground truth) from its tar.

    Required Keys:
        - shard_sample (ShardSample)
        - frame_range (tuple[int, int] | None): the frames to read.

    Added Keys:
        - imgs (np.ndarray): ``(t, H, W, 3)`` uint8 RGB (``image``: t = 1).
        - segmentations (np.ndarray): the raw ``segmentations`` array
          (its frames only), when listed in ``fields``.
        - ori_shape (tuple[int, int]): ``(H, W)`` as stored.

    Args:
        fields (Sequence[str]): ``'video'`` or ``'image'``, optionally
            ``'segmentations'``.

    Raises:
        ShardFormatError: Naming the shard and member, if a member is
            missing or its array has the wrong shape or dtype.
    """

    def __init__(self, fields: Sequence[str] = ('video', )) -> None:
        fields = tuple(fields)
        frames = [field for field in fields if field in ('video', 'image')]
        if len(frames) != 1 or not set(fields) <= {
                'video', 'image', 'segmentations'
        }:
            raise ValueError('fields must hold one of video/image and '
                             f'optionally segmentations, got {fields}')
        self.fields = fields
        self.frames_field = frames[0]

    def transform(self, results: Dict) -> Dict:
        sample = results['shard_sample']
        frame_range = results.get('frame_range')
        for field in self.fields:
            rows = frame_range if field == 'video' or (
                field == 'segmentations'
                and self.frames_field == 'video') else None
            array = read_npy_member(sample, field, rows)
            if field in ('video', 'image'):
                array = array[None] if field == 'image' else array
                if array.ndim != 4 or array.shape[-1] != 3 or \
                        array.dtype != np.uint8 or not len(array):
                    raise ShardFormatError(
                        f'{sample.shard}: member {sample.member_name(field)!r}'
                        f' must be uint8 (T, H, W, 3) frames, got '
                        f'{array.dtype} {array.shape}')
                results['imgs'] = array
                results['ori_shape'] = array.shape[1:3]
            else:
                results['segmentations'] = array
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(fields={self.fields})'


def segmentations_to_ids(segmentations: np.ndarray, layout: str,
                         where: str) -> Tuple[np.ndarray, int]:
    """VideoSAUR's stored ground truth -> ``(T, H, W)`` uint8 id maps.

    - ``'movi'``: ``(T, H, W, 1)`` ids, 0 the background.
    - ``'ytvis'``: ``(T, H, W, n)``, instance ``i`` where channel ``i`` is
      non-zero (it holds the category id) -> id ``i + 1``; 0 unlabelled.
    - ``'coco'``: ``(n, H, W)`` for one image -> ``(1, H, W)`` likewise.

    Pixels of more than one instance become :data:`VOID_ID` (VideoSAUR's
    ``ignore_overlaps``: left out of ground truth and prediction).

    Returns:
        tuple: the id maps and the number of overlap pixels.

    Raises:
        ShardFormatError: Naming ``where``, on a wrong shape or dtype, or
            more instances than ids.
    """
    if layout not in SEGMENTATION_LAYOUTS:
        raise ValueError(f'layout must be one of {SEGMENTATION_LAYOUTS}, got '
                         f'{layout!r}')
    expected = dict(movi='(T, H, W, 1)', ytvis='(T, H, W, n)',
                    coco='(n, H, W)')[layout]
    ndim = 3 if layout == 'coco' else 4
    if segmentations.ndim != ndim or not np.issubdtype(
            segmentations.dtype, np.integer) or (
                layout == 'movi' and segmentations.shape[-1] != 1):
        raise ShardFormatError(f'{where}: segmentations must be integer '
                               f'{expected}, got {segmentations.dtype} '
                               f'{segmentations.shape}')
    if layout == 'movi':
        ids = segmentations[..., 0]
        if ids.min() < 0 or ids.max() >= VOID_ID:
            raise ShardFormatError(f'{where}: MOVi ids must lie in '
                                   f'[0, {VOID_ID - 1}]')
        return ids.astype(np.uint8), 0
    channels = segmentations[None] if layout == 'coco' else \
        np.moveaxis(segmentations, -1, 1)
    if channels.shape[1] >= VOID_ID:
        raise ShardFormatError(f'{where}: {channels.shape[1]} instances, '
                               f'more than {VOID_ID - 1}')
    present = channels != 0
    instance_ids = np.arange(1, channels.shape[1] + 1).reshape(1, -1, 1, 1)
    ids = (present * instance_ids).max(1)
    overlap = present.sum(1) > 1
    ids = ids.astype(np.uint8)
    ids[overlap] = VOID_ID
    return ids, int(overlap.sum())


@TRANSFORMS.register_module()
class ShardSegmentationsToIds(BaseTransform):
    """Turn ``segmentations`` into ``gt_masks`` id maps.

    See :func:`segmentations_to_ids`. Overlap pixels become void (255);
    they are logged per video.

    Required Keys:
        - segmentations, shard_sample, video_name

    Added Keys:
        - gt_masks (np.ndarray): ``(T, H, W)`` uint8.

    Args:
        layout (str): ``'movi'``, ``'ytvis'`` or ``'coco'``.
    """

    def __init__(self, layout: str) -> None:
        if layout not in SEGMENTATION_LAYOUTS:
            raise ValueError(f'layout must be one of {SEGMENTATION_LAYOUTS}, '
                             f'got {layout!r}')
        self.layout = layout

    def transform(self, results: Dict) -> Dict:
        sample = results['shard_sample']
        member = sample.member_name('segmentations')
        where = f'{sample.shard}: member {member!r}'
        ids, overlaps = segmentations_to_ids(
            results.pop('segmentations'), self.layout, where)
        if ids.shape[0] != len(results['imgs']) or \
                ids.shape[1:] != results['imgs'].shape[1:3]:
            raise ShardFormatError(
                f'{where}: masks of shape {ids.shape} do not fit the frames '
                f'{results["imgs"].shape[:3]}')
        if overlaps:
            print_log(
                f'{results.get("video_name")}: {overlaps} ground-truth '
                'pixels belong to several instances; they are void (left out '
                'of scoring)', logger='current', level=30)
        results['gt_masks'] = ids
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(layout={self.layout!r})'


@TRANSFORMS.register_module()
class ClipCenterFullCrop(BaseTransform):
    """Crop frames and ground truth to their centred square of the full
    short side (VideoSAUR's ``CenterFullCrop``; YT-VIS and COCO test).

    Modified Keys:
        - imgs: ``(T, S, S, 3)``; gt_masks: ``(T, S, S)`` (when present).

    Added Keys:
        - crop_bbox (np.ndarray): ``x1, y1, x2, y2``.
    """

    def transform(self, results: Dict) -> Dict:
        height, width = results['imgs'].shape[1:3]
        top, left, side = center_square_box(height, width)
        window = (slice(None), slice(top, top + side),
                  slice(left, left + side))
        results['imgs'] = results['imgs'][window]
        if 'gt_masks' in results:
            results['gt_masks'] = results['gt_masks'][window]
        results['crop_bbox'] = np.array([left, top, left + side, top + side])
        return results


@TRANSFORMS.register_module()
class ClipBicubicResize(BaseTransform):
    """Resize frames bicubically and clamp them; ground truth by
    ``nearest-exact`` (VideoSAUR's ``Resize``).

    Exactly one of ``size`` (a fixed ``(H, W)``) and ``short_side`` (the
    short side, aspect kept, :func:`short_side_size`) is given.

    Required Keys:
        - imgs: ``(T, H, W, 3)`` uint8.

    Modified Keys:
        - imgs: ``(T, h, w, 3)`` float32 on the 0-255 scale (unrounded).
        - gt_masks: ``(T, mask_size)`` uint8 (when present).
        - img_shape: ``(h, w)``.

    Args:
        size (int | tuple[int, int], optional): Frame size.
        short_side (int, optional): Short side of the frames.
        mask_size (int | tuple[int, int], optional): Ground-truth size;
            defaults to the frame size.
    """

    def __init__(self,
                 size=None,
                 short_side: Optional[int] = None,
                 mask_size=None) -> None:
        if (size is None) == (short_side is None):
            raise ValueError('give exactly one of size and short_side')
        if short_side is not None and short_side < 1:
            raise ValueError(f'short_side must be >= 1, got {short_side}')
        self.size = _size_pair(size, 'size')
        self.short_side = short_side
        self.mask_size = _size_pair(mask_size, 'mask_size')

    def transform(self, results: Dict) -> Dict:
        height, width = results['imgs'].shape[1:3]
        size = self.size or short_side_size(height, width, self.short_side)
        results['imgs'] = resize_frames_bicubic(results['imgs'], size) * 255.0
        results['img_shape'] = size
        if 'gt_masks' in results:
            results['gt_masks'] = resize_ids_nearest_exact(
                results['gt_masks'], self.mask_size or size)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, short_side='
                f'{self.short_side}, mask_size={self.mask_size})')


@TRANSFORMS.register_module()
class ClipRandomSquareCrop(BaseTransform):
    """Crop one random ``size x size`` window from every frame (training;
    VideoSAUR's ``RandomCropVideo`` after the short-side resize).

    Modified Keys:
        - imgs: ``(T, size, size, 3)``; img_shape.

    Added Keys:
        - crop_bbox (np.ndarray): ``x1, y1, x2, y2``.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f'size must be >= 1, got {size}')
        self.size = int(size)

    def transform(self, results: Dict) -> Dict:
        height, width = results['imgs'].shape[1:3]
        if height < self.size or width < self.size:
            raise ValueError(f'{results.get("video_name")}: frames of '
                             f'{height}x{width} are smaller than the crop '
                             f'{self.size}')
        top = int(np.random.randint(0, height - self.size + 1))
        left = int(np.random.randint(0, width - self.size + 1))
        results['imgs'] = results['imgs'][:, top:top + self.size,
                                          left:left + self.size]
        results['img_shape'] = (self.size, self.size)
        results['crop_bbox'] = np.array(
            [left, top, left + self.size, top + self.size])
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size})'


@TRANSFORMS.register_module()
class PackShardVideoInputs(BaseTransform):
    """Pack a test video (or chunk) held in memory.

    Required Keys:
        - imgs: ``(T, H, W, 3)`` frames (float32 on the 0-255 scale).

    Optional Keys:
        - gt_masks: ``(T, h, w)`` uint8 ids.

    Added Keys:
        - inputs (np.ndarray): the ``(T, H, W, 3)`` frames; the segmentors
          index it like a lazy video (``inputs[a:b]``).
        - data_samples (VideoDataSample): ``video_name``, ``num_frames``,
          ``frame_range``, ``img_shape``, ``ori_shape`` (the ground-truth
          size, which predictions are scored at) and ``gt_masks``.
    """

    def transform(self, results: Dict) -> Dict:
        frames = np.ascontiguousarray(results['imgs'])
        sample = VideoDataSample(
            metainfo=dict(
                video_name=results['video_name'],
                num_frames=len(frames),
                frame_range=results.get('frame_range'),
                img_shape=tuple(frames.shape[1:3]),
                ori_shape=tuple(results['gt_masks'].shape[1:]
                                if 'gt_masks' in results else
                                frames.shape[1:3])))
        if 'gt_masks' in results:
            sample.gt_masks = results['gt_masks']
        return dict(inputs=frames, data_samples=sample)
