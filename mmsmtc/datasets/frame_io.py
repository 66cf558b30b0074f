"""Decoding one frame or one mask, with errors that name the file.

Frames are decoded with Pillow (libjpeg-turbo, the same decoder and settings
as ``cv2.imread``, bit-identical on the sample data) because Pillow refuses a
truncated JPEG where OpenCV silently returns a partly grey image.
"""
from pathlib import Path
from typing import Tuple, Union

import numpy as np
from mmengine.logging import print_log
from PIL import Image

from mmsmtc.utils.palette import read_indexed_png

PathLike = Union[str, Path]


def read_rgb_frame(path: PathLike) -> np.ndarray:
    """Decode an image file as RGB.

    Args:
        path: A JPEG or PNG frame.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 array in RGB order. Greyscale images
        are replicated to three channels.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is corrupt or truncated.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: frame file does not exist')
    try:
        with Image.open(path) as image:
            image.load()
            rgb = np.array(image.convert('RGB'))
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(
            f'{path}: cannot decode the frame, the file is corrupt or '
            f'truncated ({error})') from error
    return rgb


def read_frame_size(path: PathLike) -> Tuple[int, int]:
    """Read ``(H, W)`` of an image from its header, without decoding it.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the header cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: frame file does not exist')
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(
            f'{path}: cannot read the image header ({error})') from error
    return height, width


def fit_mask_to_frame(mask: np.ndarray, frame_shape: Tuple[int, int],
                      path: PathLike, max_size_gap: int) -> np.ndarray:
    """Repair a small mask/frame size mismatch, refuse a large one.

    Annotation tools sometimes drop or add a row or column (the DAVIS
    ``judo/00005.png`` is 480x853 for 480x854 frames). When height and width
    each differ by at most ``max_size_gap`` pixels, the mask is cropped or
    zero-padded (background) at its bottom and right edges, so no annotated
    pixel moves, and a warning naming the file is logged.

    Args:
        mask: ``(h, w)`` uint8 ids.
        frame_shape: ``(H, W)`` of the frames.
        path: The mask file, for messages.
        max_size_gap: Largest repaired difference per side, in pixels.

    Returns:
        np.ndarray: ``(H, W)`` uint8 ids.

    Raises:
        ValueError: If a side differs by more than ``max_size_gap`` pixels.
    """
    height, width = frame_shape
    if mask.shape == (height, width):
        return mask
    gap_h, gap_w = height - mask.shape[0], width - mask.shape[1]
    if max(abs(gap_h), abs(gap_w)) > max_size_gap:
        raise ValueError(
            f'{path}: mask size {mask.shape[0]}x{mask.shape[1]} differs from '
            f'the frame size {height}x{width} by more than {max_size_gap} '
            'pixels; the annotation does not belong to this frame')
    print_log(
        f'{path}: mask size {mask.shape[0]}x{mask.shape[1]} differs from the '
        f'frame size {height}x{width}; cropped/zero-padded at the bottom and '
        'right edges to fit', logger='current', level=30)
    fitted = np.zeros((height, width), dtype=mask.dtype)
    rows, cols = min(height, mask.shape[0]), min(width, mask.shape[1])
    fitted[:rows, :cols] = mask[:rows, :cols]
    return fitted


def read_mask(path: PathLike, frame_shape: Tuple[int, int],
              max_size_gap: int) -> np.ndarray:
    """Read an indexed PNG of ids fitted to ``frame_shape`` (H, W).

    Returns:
        np.ndarray: ``(H, W)`` uint8 ids.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the PNG is corrupt, RGB instead of indexed, or of a
            size that :func:`fit_mask_to_frame` refuses.
    """
    return fit_mask_to_frame(
        read_indexed_png(path), frame_shape, path, max_size_gap)
