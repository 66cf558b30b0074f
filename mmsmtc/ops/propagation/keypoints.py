"""JHMDB keypoint labels and read-out of the propagation protocol.

Protocol (``label_propagation.md``, "JHMDB keypoints"), checked against the
official ``draw_labelmap_np`` (``data/jhmdb.py``), ``process_pose``
(``utils/test_utils.py``) and ``eval_pck.py`` of CRW (ajabri/videowalk).
"""
from typing import Tuple

import numpy as np
import torch

#: Gaussian width of the joint maps, in grid cells.
JOINT_SIGMA = 0.5


def joints_to_grid(joints: np.ndarray,
                   image_size: Tuple[int, int],
                   stride: int,
                   input_size: Tuple[int, int] = (320, 320)) -> np.ndarray:
    """Image-pixel joints to grid units (official ``x * neww / wd / s``).

    Args:
        joints: ``(J, 2)`` zero-based ``(x, y)`` pixels (JHMDB's
            ``pos_img - 1``).
        image_size: ``(H, W)`` of the original frame.
        stride: The map scale ``s`` (8).
        input_size: ``(height, width)`` the frames are resized to.

    Returns:
        np.ndarray: ``(J, 2)`` float64 ``(x, y)`` in grid cells.
    """
    joints = np.asarray(joints, dtype=np.float64)
    scale = np.array([
        input_size[1] / image_size[1] / stride,
        input_size[0] / image_size[0] / stride
    ])
    return joints * scale


def _paste_gaussian(canvas: np.ndarray, x: float, y: float,
                    sigma: float) -> None:
    """Official ``draw_labelmap_np``: peak-1 Gaussian on an integer window.

    The ``(6 sigma + 1)``-wide window starts at ``int(x - 3 sigma)``
    (truncation toward zero) and its centre sample ``size // 2`` gets 1; the
    window overwrites ``canvas`` where it overlaps it.
    """
    height, width = canvas.shape
    upper_left = [int(x - 3 * sigma), int(y - 3 * sigma)]
    bottom_right = [int(x + 3 * sigma + 1), int(y + 3 * sigma + 1)]
    if (upper_left[0] >= width or upper_left[1] >= height
            or bottom_right[0] < 0 or bottom_right[1] < 0):
        return
    size = 6 * sigma + 1
    grid_x = np.arange(0, size, 1, float)
    grid_y = grid_x[:, None]
    centre = size // 2
    gaussian = np.exp(-((grid_x - centre)**2 + (grid_y - centre)**2) /
                      (2 * sigma**2))
    g_x = max(0, -upper_left[0]), min(bottom_right[0], width) - upper_left[0]
    g_y = max(0, -upper_left[1]), min(bottom_right[1], height) - upper_left[1]
    c_x = max(0, upper_left[0]), min(bottom_right[0], width)
    c_y = max(0, upper_left[1]), min(bottom_right[1], height)
    canvas[c_y[0]:c_y[1], c_x[0]:c_x[1]] = gaussian[g_y[0]:g_y[1],
                                                    g_x[0]:g_x[1]]


def joint_label_maps(joints_grid: np.ndarray,
                     grid_size: Tuple[int, int],
                     sigma: float = JOINT_SIGMA) -> torch.Tensor:
    """First-frame labels: background then one Gaussian map per joint.

    Args:
        joints_grid: ``(J, 2)`` ``(x, y)`` in grid cells
            (:func:`joints_to_grid`).
        grid_size: ``(h, w)``.
        sigma: Gaussian width in grid cells (0.5 in the protocol).

    Returns:
        torch.Tensor: ``(J + 1, h, w)`` float32; channel 0 is 1 where no
        joint map is non-zero, channel ``j + 1`` is joint ``j``.
    """
    joints_grid = np.asarray(joints_grid, dtype=np.float64)
    if joints_grid.ndim != 2 or joints_grid.shape[1] != 2:
        raise ValueError('joints_grid must be (J, 2) (x, y), got shape '
                         f'{joints_grid.shape}')
    maps = np.zeros((len(joints_grid) + 1, *grid_size), dtype=np.float64)
    for joint, (x, y) in enumerate(joints_grid):
        _paste_gaussian(maps[joint + 1], x, y, sigma)
    maps[0] = maps[1:].sum(0) == 0
    return torch.from_numpy(maps).float()


def read_out_keypoints(soft_labels: torch.Tensor,
                       image_size: Tuple[int, int],
                       topk: int = 3) -> np.ndarray:
    """Joint coordinates of one frame from its propagated joint maps.

    Official ``process_pose`` + ``eval_pck.py``: per joint, the ``topk``
    highest cells of its map, coordinates averaged with weights normalised
    to sum 1; a joint whose map is all zero is invisible. Grid coordinates
    are scaled to the image by ``W / w`` and ``H / h``.

    Args:
        soft_labels: ``(J + 1, h, w)`` propagated labels (channel 0 is the
            background).
        image_size: ``(H, W)`` of the original frame.
        topk: Cells averaged per joint.

    Returns:
        np.ndarray: ``(J, 2)`` float32 ``(x, y)`` pixels, ``(-1, -1)`` for
        an invisible joint.
    """
    if soft_labels.ndim != 3 or soft_labels.shape[0] < 2:
        raise ValueError('soft_labels must be (J + 1, h, w) with J >= 1, '
                         f'got shape {tuple(soft_labels.shape)}')
    joint_maps = soft_labels[1:].detach().to('cpu', torch.float32)
    grid_height, grid_width = joint_maps.shape[1:]
    flat = joint_maps.flatten(1)
    weights, cells = flat.topk(min(topk, flat.shape[1]), dim=1)
    weights = weights / weights.sum(1, keepdim=True)
    xs = (cells % grid_width).float()
    ys = (cells // grid_width).float()
    coords = torch.stack([(xs * weights).sum(1), (ys * weights).sum(1)], 1)
    scale = torch.tensor(
        [image_size[1] / grid_width, image_size[0] / grid_height])
    coords = coords * scale
    coords[flat.sum(1) == 0] = -1
    return coords.numpy()
