"""Colour-space conversion of frames."""
import cv2
import numpy as np
import torch
from torch import Tensor


def rgb_to_lab(frames: Tensor) -> Tensor:
    """``(..., 3, H, W)`` RGB in ``[0, 255]`` to CIE L*a*b*, as
    Spa-then-Temp / VFS's ``RGB2LAB`` transform.

    That transform runs OpenCV's ``COLOR_RGB2Lab`` on
    ``float32(uint8 frame) / 255`` (L in ``[0, 100]``, a and b about
    ``[-127, 127]``; OpenCV's own sRGB gamma table, which an analytic
    formula misses by up to 0.3). So do we: values are rounded to the
    nearest grey level (undoing a normalisation's rounding), converted on
    the CPU frame by frame, and returned as float32 on the input's device.
    """
    if frames.dim() < 3 or frames.shape[-3] != 3:
        raise ValueError('rgb_to_lab expects (..., 3, H, W) frames, got '
                         f'{tuple(frames.shape)}')
    images = frames.detach().to('cpu', torch.float32).round().clamp(0, 255)
    images = images.movedim(-3, -1)
    flat = images.reshape(-1, *images.shape[-3:]).numpy() / np.float32(255)
    lab = np.stack([cv2.cvtColor(image, cv2.COLOR_RGB2Lab) for image in flat])
    return torch.from_numpy(lab).view(images.shape).movedim(
        -1, -3).to(frames.device)
