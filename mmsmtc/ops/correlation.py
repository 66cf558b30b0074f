"""Feature correlations of Spa-then-Temp's temporal training step.

Two frames' ``(B, C, h, w)`` feature maps, a *query* (target frame) and a
*key* map (reference frame), positions flattened row-major (``N = h * w``,
index ``y * w + x``).

- :func:`window_mask` / :func:`windowed_affinity`: the official
  ``make_mask`` + ``non_local_correlation(..., mask, scaling=True)``: a
  softmax over the keys within a square window (Chebyshev distance
  ``<= radius``, clipped at the borders) of raw dot products scaled by
  ``1 / sqrt(C)``, no L2 normalisation; keys outside the window get
  ``-inf``.
- :func:`local_correlation`: the official ``mmcv.ops.Correlation
  (max_displacement=R)`` (kernel 1, stride 1, no padding or dilation), a
  CUDA-only op there, in plain PyTorch: the raw channel sums of products
  with every key displaced by ``(dy, dx)``, ``|dy|, |dx| <= R``, zero where
  the displaced key falls outside the map.
"""
import math

import torch
from torch import Tensor


def _check_pair(query: Tensor, key: Tensor, name: str) -> None:
    if query.dim() != 4 or query.shape != key.shape:
        raise ValueError(f'{name} needs query and key maps of one shape '
                         f'(B, C, h, w), got {tuple(query.shape)} and '
                         f'{tuple(key.shape)}')


def window_mask(height: int, width: int, radius: int,
                device=None) -> Tensor:
    """Which keys each query sees: ``(N, N)`` bool,
    ``mask[i, j] = |y_i - y_j| <= radius and |x_i - x_j| <= radius``."""
    if radius < 0:
        raise ValueError(f'radius must be >= 0, got {radius}')
    ys = torch.arange(height, device=device).repeat_interleave(width)
    xs = torch.arange(width, device=device).repeat(height)
    near_y = (ys[:, None] - ys[None, :]).abs() <= radius
    near_x = (xs[:, None] - xs[None, :]).abs() <= radius
    return near_y & near_x


def windowed_affinity(query: Tensor,
                      key: Tensor,
                      radius: int = None,
                      scale: bool = True,
                      temperature: float = 1.0) -> Tensor:
    """Softmax affinity of every query position to the key positions.

    Args:
        query, key: ``(B, C, h, w)`` maps.
        radius: Square window half-side in cells; None: every key.
        scale: Divide the dot products by ``sqrt(C)``.
        temperature: Divide the dot products by it (before the scaling).

    Returns:
        Tensor: ``(B, N, N)``, ``[b, i, j]`` = weight of key ``j`` for
        query ``i``; rows sum to 1.
    """
    _check_pair(query, key, 'windowed_affinity')
    channels, height, width = query.shape[1:]
    logits = torch.einsum('bci,bcj->bij', query.flatten(2),
                          key.flatten(2)) / temperature
    if scale:
        logits = logits / math.sqrt(channels)
    if radius is not None:
        mask = window_mask(height, width, radius, query.device)
        logits = logits.masked_fill(~mask, float('-inf'))
    return logits.softmax(dim=-1)


def local_correlation(query: Tensor, key: Tensor,
                      max_displacement: int) -> Tensor:
    """Dot products with the keys at every displacement up to ``R``.

    Args:
        query, key: ``(B, C, h, w)`` maps.
        max_displacement: ``R``.

    Returns:
        Tensor: ``(B, 2R + 1, 2R + 1, h, w)``,
        ``[b, R + dy, R + dx, y, x] = sum_c query[b, c, y, x] *
        key[b, c, y + dy, x + dx]``, 0 where ``(y + dy, x + dx)`` is
        outside the map.
    """
    _check_pair(query, key, 'local_correlation')
    if max_displacement < 0:
        raise ValueError(
            f'max_displacement must be >= 0, got {max_displacement}')
    radius = max_displacement
    side = 2 * radius + 1
    height, width = query.shape[-2:]
    padded = torch.nn.functional.pad(key, (radius, ) * 4)
    rows = []
    for dy in range(side):
        band = padded[:, :, dy:dy + height]
        rows.append(
            torch.stack([(query * band[..., dx:dx + width]).sum(1)
                         for dx in range(side)], dim=1))
    return torch.stack(rows, dim=1)
