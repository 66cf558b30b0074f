"""Input checks and the patch-multiple resize policy shared by backbones."""
from typing import Tuple

import torch
import torch.nn.functional as F


def check_image_batch(images: torch.Tensor, owner: str) -> None:
    """Fail loudly unless ``images`` is a float ``(N, 3, H, W)`` batch."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f'{owner} expects a tensor, got '
                        f'{type(images).__name__}')
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f'{owner} expects images of shape (N, 3, H, W), got '
                         f'{tuple(images.shape)}')
    if not images.is_floating_point():
        raise TypeError(f'{owner} expects normalised float images, got '
                        f'{images.dtype}')


def floor_to_multiple(height: int, width: int, multiple: int,
                      owner: str) -> Tuple[int, int]:
    """``(H // m * m, W // m * m)``; refuses a side shorter than ``m``."""
    if height < multiple or width < multiple:
        raise ValueError(f'{owner} needs images of at least {multiple}x'
                         f'{multiple} pixels, got {height}x{width}')
    return height // multiple * multiple, width // multiple * multiple


def resize_to_multiple(images: torch.Tensor, multiple: int,
                       owner: str) -> torch.Tensor:
    """Resize ``(N, C, H, W)`` to the largest multiple of ``multiple``.

    The label-propagation protocol's pre-processing (and the SMTC README's
    fix for ViT backbones): bilinear, ``align_corners=False``, no
    anti-aliasing, to ``(H // m * m, W // m * m)``. A batch that is already a
    multiple is returned unchanged.
    """
    height, width = images.shape[-2:]
    size = floor_to_multiple(height, width, multiple, owner)
    if size == (height, width):
        return images
    return F.interpolate(
        images, size=size, mode='bilinear', align_corners=False)
