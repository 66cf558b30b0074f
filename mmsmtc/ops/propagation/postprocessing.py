"""From propagated soft labels to an annotation map at the image size.

Protocol (``label_propagation.md``, "Prediction for each frame"): resize the
raw soft labels bilinearly straight to the original image size (the
official ``cv2.resize(pred, (W, H))``, INTER_LINEAR), argmax over channels
with ties to the lowest channel (``np.argmax``), map channels back to the
annotation values.

Spa-then-Temp / VFS (``VanillaTracker.forward_test``) upsample with torch's
bilinear (align_corners=False) and normalise each channel to ``[0, 1]``
over the image (min-max, channels whose maximum is positive) before the
argmax (:func:`minmax_soft_labels_to_ids`).
"""
from typing import Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def soft_labels_to_ids(soft_labels: torch.Tensor, values: Sequence[int],
                       image_size: Tuple[int, int]) -> np.ndarray:
    """Hard annotation ids of one frame at the original image size.

    Channels are resized one at a time and compared with a running maximum
    (strictly greater wins), which is the argmax with ties to the lowest
    channel without holding a ``(H, W, K)`` array.

    Args:
        soft_labels: ``(K, h, w)`` propagated labels (any device).
        values: ``(K,)`` annotation id of each channel.
        image_size: ``(H, W)`` of the original frame.

    Returns:
        np.ndarray: ``(H, W)`` ids, with the dtype of ``values``.

    Raises:
        ValueError: If ``soft_labels`` is not ``(K, h, w)`` with
            ``K == len(values)``.
    """
    values = np.asarray(values)
    if soft_labels.ndim != 3 or soft_labels.shape[0] != len(values):
        raise ValueError(
            f'soft_labels must be (K, h, w) with K = len(values) = '
            f'{len(values)}, got shape {tuple(soft_labels.shape)}')
    height, width = image_size
    maps = soft_labels.detach().to('cpu', torch.float32).numpy()
    best = np.full((height, width), -np.inf, dtype=np.float32)
    channel_ids = np.zeros((height, width), dtype=np.int64)
    for channel, soft_map in enumerate(maps):
        upsampled = cv2.resize(
            soft_map, (width, height), interpolation=cv2.INTER_LINEAR)
        better = upsampled > best
        best[better] = upsampled[better]
        channel_ids[better] = channel
    return values[channel_ids]


def minmax_soft_labels_to_ids(soft_labels: torch.Tensor,
                              values: Sequence[int],
                              image_size: Tuple[int, int]) -> np.ndarray:
    """Hard ids of one frame, each channel min-max normalised first.

    The Spa-then-Temp / VFS read-out: each channel is upsampled bilinearly
    (``F.interpolate``, align_corners=False) to the image size; a channel
    whose maximum is positive becomes ``(x - min) / (max - min + 1e-12)``
    over the image; argmax over channels with ties to the lowest (torch's
    first maximum). Computed in float64, one channel at a time.

    Args:
        soft_labels: ``(K, h, w)`` propagated labels (any device).
        values: ``(K,)`` annotation id of each channel.
        image_size: ``(H, W)`` of the original frame.

    Returns:
        np.ndarray: ``(H, W)`` ids, with the dtype of ``values``.

    Raises:
        ValueError: If ``soft_labels`` is not ``(K, h, w)`` with
            ``K == len(values)``.
    """
    values = np.asarray(values)
    if soft_labels.ndim != 3 or soft_labels.shape[0] != len(values):
        raise ValueError(
            f'soft_labels must be (K, h, w) with K = len(values) = '
            f'{len(values)}, got shape {tuple(soft_labels.shape)}')
    best = channel_ids = None
    for channel, soft_map in enumerate(soft_labels.detach()):
        upsampled = F.interpolate(
            soft_map.to(torch.float64)[None, None],
            size=tuple(image_size),
            mode='bilinear',
            align_corners=False)[0, 0]
        low, high = upsampled.min(), upsampled.max()
        if high > 0:
            upsampled = (upsampled - low) / (high - low + 1e-12)
        if best is None:
            best = upsampled
            channel_ids = torch.zeros_like(upsampled, dtype=torch.long)
        else:
            better = upsampled > best
            best = torch.where(better, upsampled, best)
            channel_ids[better] = channel
    return values[channel_ids.cpu().numpy()]


def nearest_ids_to_image(ids: np.ndarray,
                         image_size: Tuple[int, int]) -> np.ndarray:
    """``(h, w)`` ids resized to ``image_size`` with torch's nearest mode
    (Spa-then-Temp / VFS frame 0: the given map at the input size, back to
    the image size)."""
    resized = F.interpolate(
        torch.from_numpy(np.asarray(ids, np.float32))[None, None],
        size=tuple(image_size),
        mode='nearest')[0, 0]
    return resized.numpy().astype(np.asarray(ids).dtype)
