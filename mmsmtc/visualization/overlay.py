"""Predictions drawn over video frames, with one stable colour per id.

Colours come from the DAVIS palette, so an object id (or a VIP class, or
joint ``j`` as id ``j + 1``) has the same colour in every frame, every video
and in the indexed prediction PNGs.
"""
from pathlib import Path
from typing import Iterable, Union

import cv2
import numpy as np
from PIL import Image

from mmsmtc.utils import DAVIS_PALETTE


def _check_frame(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError('frame must be an (H, W, 3) uint8 RGB image, got '
                         f'{frame.dtype} of shape {frame.shape}')
    return frame


def id_boundaries(ids: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool: pixels with a 4-neighbour of another id."""
    edges = np.zeros(ids.shape, dtype=bool)
    horizontal = ids[:, :-1] != ids[:, 1:]
    vertical = ids[:-1] != ids[1:]
    edges[:, :-1] |= horizontal
    edges[:, 1:] |= horizontal
    edges[:-1] |= vertical
    edges[1:] |= vertical
    return edges


def blend_ids(frame: np.ndarray, ids: np.ndarray,
              alpha: float = 0.5) -> np.ndarray:
    """Blend the palette colour of every non-zero id over a frame.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB.
        ids: ``(H, W)`` integer ids in ``[0, 255]``; 0 stays unblended.
        alpha: Opacity of the colours; id boundaries are drawn opaque.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB.

    Raises:
        ValueError: On a size mismatch, ids outside ``[0, 255]`` or an
            ``alpha`` outside ``[0, 1]``.
    """
    frame = _check_frame(frame)
    ids = np.asarray(ids)
    if ids.shape != frame.shape[:2]:
        raise ValueError(f'ids of shape {ids.shape} do not match the frame '
                         f'{frame.shape[:2]}')
    if ids.size and (ids.min() < 0 or ids.max() > 255):
        raise ValueError(f'ids must lie in [0, 255], got [{ids.min()}, '
                         f'{ids.max()}]')
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    ids = ids.astype(np.int64)
    colours = DAVIS_PALETTE[ids].astype(np.float32)
    foreground = ids > 0
    out = frame.astype(np.float32)
    out[foreground] = (1 - alpha) * out[foreground] + \
        alpha * colours[foreground]
    edges = id_boundaries(ids) & foreground
    out[edges] = colours[edges]
    return np.rint(out).astype(np.uint8)


def draw_keypoints(frame: np.ndarray, keypoints: np.ndarray,
                   radius: int = 3) -> np.ndarray:
    """Draw joints as filled discs, joint ``j`` in palette colour ``j + 1``.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB.
        keypoints: ``(J, 2)`` ``(x, y)`` pixels; negative = invisible.
        radius: Disc radius in pixels.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8 RGB copy.
    """
    frame = _check_frame(frame).copy()
    keypoints = np.asarray(keypoints, dtype=np.float64)
    if keypoints.ndim != 2 or keypoints.shape[1] != 2:
        raise ValueError('keypoints must be (J, 2) (x, y), got shape '
                         f'{keypoints.shape}')
    for joint, (x, y) in enumerate(keypoints):
        if x < 0 or y < 0:
            continue
        colour = tuple(int(c) for c in DAVIS_PALETTE[(joint + 1) % 256])
        cv2.circle(frame, (int(round(x)), int(round(y))), radius, colour, -1)
    return frame


def write_video_overlays(out_dir: Union[str, Path], video_name: str,
                         frame_names: Iterable[str],
                         frames: Iterable[np.ndarray],
                         pred_masks: Union[np.ndarray, None] = None,
                         pred_keypoints: Union[np.ndarray, None] = None,
                         alpha: float = 0.5) -> Path:
    """Write ``out_dir/<video>/<frame>.png`` overlays of one video.

    Args:
        frames: The ``T`` ``(H, W, 3)`` uint8 RGB frames (may be lazy).
        pred_masks: ``(T, H, W)`` ids, or None.
        pred_keypoints: ``(T, J, 2)`` joints, or None.

    Returns:
        Path: The video's folder.

    Raises:
        ValueError: If neither prediction is given or their length is not
            the number of frame names.
    """
    frame_names = [str(name) for name in frame_names]
    if pred_masks is None and pred_keypoints is None:
        raise ValueError(f'{video_name}: nothing to draw (no pred_masks or '
                         'pred_keypoints)')
    for prediction in (pred_masks, pred_keypoints):
        if prediction is not None and len(prediction) != len(frame_names):
            raise ValueError(f'{video_name}: {len(prediction)} predicted '
                             f'frames for {len(frame_names)} frames')
    video_dir = Path(out_dir) / video_name
    video_dir.mkdir(parents=True, exist_ok=True)
    for index, (name, frame) in enumerate(zip(frame_names, frames)):
        image = np.asarray(frame)
        if pred_masks is not None:
            image = blend_ids(image, pred_masks[index], alpha)
        if pred_keypoints is not None:
            image = draw_keypoints(image, pred_keypoints[index])
        Image.fromarray(image).save(video_dir / f'{name}.png')
    return video_dir
