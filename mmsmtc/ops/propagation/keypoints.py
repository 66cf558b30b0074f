"""JHMDB keypoint labels and read-out of the propagation protocol.

Protocol (``label_propagation.md``, "JHMDB keypoints"), checked against the
official ``draw_labelmap_np`` (``data/jhmdb.py``), ``process_pose``
(``utils/test_utils.py``) and ``eval_pck.py`` of CRW (ajabri/videowalk).

Spa-then-Temp / VFS (``jhmdb_dataset_rgb``, ``VanillaTracker``) work at the
image resolution instead: :func:`image_joint_label_maps` and
:func:`read_out_keypoints_at_image`.
"""
from typing import Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

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


#: Spa-then-Temp / VFS: Gaussian width in image pixels, joints read out.
IMAGE_JOINT_SIGMA = 4
IMAGE_KEYPOINT_TOPK = 5


def image_joint_label_maps(joints: np.ndarray,
                           image_size: Tuple[int, int],
                           input_size: Tuple[int, int],
                           grid_size: Tuple[int, int],
                           sigma: float = IMAGE_JOINT_SIGMA
                           ) -> Tuple[torch.Tensor, np.ndarray]:
    """Frame-0 joint maps of the Spa-then-Temp / VFS protocol.

    One peak-1 Gaussian of ``sigma`` image pixels per joint, drawn at the
    original resolution (the same integer window as
    :func:`joint_label_maps`, ``draw_label_map``), no background channel;
    resized with OpenCV INTER_LINEAR to the input size (the pipeline's
    ``Resize``), then with torch's bilinear (align_corners=False) to the
    grid and rounded to float32 (``forward_test``).

    Args:
        joints: ``(J, 2)`` zero-based ``(x, y)`` image pixels.
        image_size: ``(H, W)`` of the original frame.
        input_size: ``(H', W')`` the frames are resized to (320 x 320).
        grid_size: The label grid ``(h, w)``.
        sigma: Gaussian width in image pixels (4).

    Returns:
        tuple[Tensor, np.ndarray]: ``(J, h, w)`` float32 grid labels and
        the ``(J, H', W')`` float64 maps at the input size (frame 0's
        prediction is read from them).
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 2 or joints.shape[1] != 2:
        raise ValueError(f'joints must be (J, 2) (x, y), got shape '
                         f'{joints.shape}')
    maps = np.zeros((len(joints), *image_size), dtype=np.float64)
    for joint, (x, y) in enumerate(joints):
        _paste_gaussian(maps[joint], x, y, sigma)
    height, width = input_size
    resized = np.stack([
        cv2.resize(joint_map, (width, height),
                   interpolation=cv2.INTER_LINEAR) for joint_map in maps
    ])
    grid = F.interpolate(
        torch.from_numpy(resized)[None],
        size=tuple(grid_size),
        mode='bilinear',
        align_corners=False)[0].float()
    return grid, resized


def read_out_keypoints_at_image(soft_labels: torch.Tensor,
                                image_size: Tuple[int, int],
                                topk: int = IMAGE_KEYPOINT_TOPK
                                ) -> np.ndarray:
    """Joint coordinates read at the image resolution (VFS ``img2coord``).

    Each ``(h, w)`` joint map is upsampled bilinearly (align_corners=False)
    to the image size; its ``topk`` largest pixels are averaged with
    weights normalised to sum 1; an all-zero map gives ``(-1, -1)``.

    Args:
        soft_labels: ``(J, h, w)`` joint maps (no background channel), at
            the grid or any other size.
        image_size: ``(H, W)`` of the original frame.
        topk: Pixels averaged per joint (5).

    Returns:
        np.ndarray: ``(J, 2)`` float64 ``(x, y)`` pixels.
    """
    if soft_labels.ndim != 3 or soft_labels.shape[0] < 1:
        raise ValueError('soft_labels must be (J, h, w) with J >= 1, got '
                         f'shape {tuple(soft_labels.shape)}')
    height, width = image_size
    maps = F.interpolate(
        soft_labels.detach().to('cpu', torch.float64)[None],
        size=(height, width),
        mode='bilinear',
        align_corners=False)[0].flatten(1)
    weights, pixels = maps.topk(min(topk, maps.shape[1]), dim=1)
    weights = weights / weights.sum(1, keepdim=True)
    coords = torch.stack([((pixels % width) * weights).sum(1),
                          ((pixels // width) * weights).sum(1)], 1)
    coords[maps.sum(1) == 0] = -1
    return coords.numpy()
