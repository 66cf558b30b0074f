"""Label-grid size and first-frame labels of the protocol.

Protocol lines (``label_propagation.md``, "DAVIS-2017 semi-supervised"):
frames are resized bilinearly (align_corners=False) to ``H // s * s``
(:func:`mmsmtc.ops.resize_to_multiple`); the label grid is
``floor(H / s) x floor(W / s)`` (``ceil`` for JHMDB); frame-0 labels are
one channel per distinct annotation value, background included,
resized to the grid with OpenCV INTER_LINEAR (as the official
``cv2.resize(np.float32(onehot), (w, h))``).

Spa-then-Temp / VFS (``VanillaTracker.forward_test``) instead resizes the
id map itself to the grid with PIL's nearest neighbour and one-hot encodes
the result (:func:`first_frame_labels_nearest`).
"""
import math
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from PIL import Image

#: Frame size of the JHMDB protocol (aspect ratio not kept).
JHMDB_INPUT_SIZE = (320, 320)
#: Frame size and number of classes (background + 19 parts) of VIP.
VIP_INPUT_SIZE = (560, 560)
VIP_NUM_CLASSES = 20


def label_grid_size(height: int,
                    width: int,
                    stride: int,
                    rounding: str = 'floor') -> Tuple[int, int]:
    """Label grid of an ``height x width`` input at map scale ``stride``.

    Args:
        rounding: ``'floor'`` (DAVIS, SMTC) or ``'ceil'`` (JHMDB, CRW).

    Returns:
        tuple[int, int]: ``(h, w)``.
    """
    if rounding not in ('floor', 'ceil'):
        raise ValueError(
            f"rounding must be 'floor' or 'ceil', got {rounding!r}")
    round_fn = math.floor if rounding == 'floor' else math.ceil
    grid = (round_fn(height / stride), round_fn(width / stride))
    if min(grid) < 1:
        raise ValueError(f'{height}x{width} at stride {stride} gives an '
                         f'empty label grid {grid}')
    return grid


def resize_linear(maps: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """OpenCV INTER_LINEAR resize of ``(H, W, K)`` float32 maps.

    Half-pixel centres, no anti-aliasing; channels are resized one at a
    time (the operation is per channel), so any ``K`` fits in memory.

    Returns:
        np.ndarray: ``(height, width, K)`` float32.
    """
    height, width = size
    out = np.empty((height, width, maps.shape[2]), dtype=np.float32)
    for channel in range(maps.shape[2]):
        out[..., channel] = cv2.resize(
            np.ascontiguousarray(maps[..., channel], dtype=np.float32),
            (width, height),
            interpolation=cv2.INTER_LINEAR)
    return out


def first_frame_labels(
        annotation: np.ndarray,
        grid_size: Tuple[int, int],
        values: Optional[Sequence[int]] = None
) -> Tuple[torch.Tensor, np.ndarray]:
    """One-hot frame-0 labels resized to the label grid.

    Args:
        annotation: ``(H, W)`` integer ids of frame 0 (0 = background).
        grid_size: The label grid ``(h, w)``.
        values: The ids that get a channel, in channel order; default the
            distinct ids of ``annotation``, ascending (official
            ``make_lbl_set``). VIP passes ``range(VIP_NUM_CLASSES)``.

    Returns:
        tuple[Tensor, np.ndarray]: ``(K, h, w)`` float32 labels and the
        ``(K,)`` ids of the channels.

    Raises:
        ValueError: If ``annotation`` is not 2-D, has no object (only
            background), or holds ids missing from ``values``.
    """
    annotation = np.asarray(annotation)
    if annotation.ndim != 2:
        raise ValueError('annotation must be an (H, W) array of ids, got '
                         f'shape {annotation.shape}')
    present = np.unique(annotation)
    if not (present != 0).any():
        raise ValueError('first-frame annotation has no object: every pixel '
                         'is background (0)')
    if values is None:
        values = present
    values = np.asarray(values)
    missing = np.setdiff1d(present, values)
    if missing.size:
        raise ValueError(f'annotation holds ids {missing.tolist()} that are '
                         f'not among the label values {values.tolist()}')
    one_hot = (annotation[..., None] == values).astype(np.float32)
    resized = resize_linear(one_hot, grid_size)
    return torch.from_numpy(resized).permute(2, 0, 1).contiguous(), values


def pil_nearest_resize(ids: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """``(H, W)`` uint8 ids resized to ``size = (h, w)`` by PIL's nearest
    neighbour (mmcv's ``imresize(backend='pillow')``)."""
    return np.asarray(
        Image.fromarray(np.asarray(ids, np.uint8)).resize(
            (size[1], size[0]), Image.NEAREST))


def first_frame_labels_nearest(
        annotation: np.ndarray,
        grid_size: Tuple[int, int],
        input_size: Optional[Tuple[int, int]] = None
) -> Tuple[torch.Tensor, np.ndarray]:
    """One-hot frame-0 labels of an id map resized with PIL nearest.

    The Spa-then-Temp / VFS protocol (the pipeline's ``Resize`` of the id
    map, ``pil_nearest_interpolate`` then ``F.one_hot``): the uint8 id map
    is resized by ``PIL.Image.resize(NEAREST)`` to the input size (when
    given) and then to the grid, and one-hot encoded with one channel per
    id ``0 .. m``, ``m`` the largest id left on the grid (an object that
    vanishes in the downsampling and had the largest id gets no channel).

    Args:
        annotation: ``(H, W)`` integer ids of frame 0 in ``0..255``.
        grid_size: The label grid ``(h, w)``.
        input_size: ``(H', W')`` the frames are resized to, or None.

    Returns:
        tuple[Tensor, np.ndarray]: ``(K, h, w)`` float32 one-hot labels and
        the ``(K,)`` ids ``0 .. K - 1``.

    Raises:
        ValueError: If ``annotation`` is not 2-D, holds ids outside
            ``0..255`` (PIL's uint8 maps), or has no object on the grid.
    """
    annotation = np.asarray(annotation)
    if annotation.ndim != 2:
        raise ValueError('annotation must be an (H, W) array of ids, got '
                         f'shape {annotation.shape}')
    if annotation.size and (annotation.min() < 0 or annotation.max() > 255):
        raise ValueError('annotation ids must lie in 0..255 for the PIL '
                         f'nearest resize, got {annotation.min()}..'
                         f'{annotation.max()}')
    height, width = grid_size
    if input_size is not None:
        annotation = pil_nearest_resize(annotation, input_size)
    resized = pil_nearest_resize(annotation, grid_size)
    num_labels = int(resized.max()) + 1
    if num_labels == 1:
        raise ValueError('first-frame annotation has no object on the '
                         f'{height}x{width} label grid: every cell is '
                         'background (0) after the nearest resize')
    values = np.arange(num_labels)
    one_hot = torch.from_numpy(resized.astype(np.int64)[None] ==
                               values[:, None, None])
    return one_hot.float(), values
