"""Bilinear frame resizing and the multiple-of-stride size rule.

One implementation for every caller: backbones (patch-multiple inputs), the
data preprocessor, the test-time segmentors and the label-propagation
protocol (``label_propagation.md``: frames resized bilinearly with
``align_corners=False``, no anti-aliasing, to ``H // s * s``).
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F


def floor_to_multiple(height: int,
                      width: int,
                      multiple: int,
                      what: str = 'frames') -> Tuple[int, int]:
    """``(height // m * m, width // m * m)`` for ``m = multiple``.

    Args:
        height, width: The input size.
        multiple: The patch size or map stride ``m``.
        what: What is resized, for the error message.

    Raises:
        ValueError: If a side is shorter than ``multiple``.
    """
    if height < multiple or width < multiple:
        raise ValueError(f'{what} of {height}x{width} pixels are smaller '
                         f'than the stride {multiple}')
    return height // multiple * multiple, width // multiple * multiple


def resize_frames(frames: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Bilinear resize (``align_corners=False``, no anti-aliasing).

    Args:
        frames: ``(..., C, H, W)`` frames; integer frames are converted to
            float32 first.
        size: Output ``(height, width)``.

    Returns:
        torch.Tensor: ``(..., C, height, width)`` (``frames`` itself when
        it already has that size).
    """
    if frames.dim() < 3:
        raise ValueError(
            f'frames must be (..., C, H, W), got shape {tuple(frames.shape)}')
    if not frames.is_floating_point():
        frames = frames.float()
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    leading = frames.shape[:-3]
    flat = frames.reshape(-1, *frames.shape[-3:])
    resized = F.interpolate(
        flat, size=tuple(size), mode='bilinear', align_corners=False)
    return resized.reshape(*leading, *resized.shape[-3:])


def resize_to_multiple(frames: torch.Tensor,
                       multiple: int,
                       what: str = 'frames') -> torch.Tensor:
    """Resize to the largest multiple of ``multiple`` not above the size.

    Args:
        frames: ``(..., C, H, W)`` frames.
        multiple: The patch size or map stride ``m``.
        what: What is resized, for the error message.

    Returns:
        torch.Tensor: ``(..., C, H // m * m, W // m * m)``; ``frames`` itself
        when it is already a multiple.

    Raises:
        ValueError: If a side is shorter than ``multiple``.
    """
    size = floor_to_multiple(*frames.shape[-2:], multiple, what)
    return resize_frames(frames, size)
