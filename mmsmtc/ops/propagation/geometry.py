"""Source-frame schedule, window test and target tiling of the protocol.

Protocol (``label_propagation.md``, "Core"): for target frame ``t`` the
sources are frame 0, then the ``n_context`` preceding frames, oldest first,
padded with frame 0 (``max(0, t - n_context + i)``); a short-term source
cell is kept only when its Euclidean grid distance to the target cell is
strictly smaller than ``radius``.

The Spa-then-Temp / VFS tracker (``VanillaTracker``) differs in two
options: ``context='recent'`` (frame 0, then only the real frames
``max(0, t - n_context) .. t - 1``, frame 0 again when it is among them)
and ``window='square'`` (a source cell is kept when
``max(|dy|, |dx|) <= radius``).
"""
import math
from typing import Iterator, List, NamedTuple

import torch

#: Source windows: CRW's disc (Euclidean distance ``< radius``) and the
#: Spa-then-Temp / VFS square (Chebyshev distance ``<= radius``).
WINDOWS = ('disc', 'square')
#: Short-term source schedules: CRW's padded list and VFS's real frames.
CONTEXTS = ('pad', 'recent')


def context_frame_indices(target: int,
                          n_context: int,
                          context: str = 'pad') -> List[int]:
    """Short-term source frames of ``target``, oldest first.

    Args:
        target: The target frame ``t >= 1``.
        n_context: The number of short-term frames.
        context: ``'pad'`` or ``'recent'`` (see :data:`CONTEXTS`).

    Returns:
        list[int]: ``'pad'``: ``[max(0, target - n_context + i) for i in
        range(n_context)]`` (CRW's ``context_index_bank`` on the sequence
        padded with ``n_context`` copies of frame 0); ``'recent'``:
        ``range(max(0, target - n_context), target)`` (VFS's
        ``key_start:frame_idx``, no padding, so fewer frames early on).
    """
    if context == 'recent':
        return list(range(max(0, target - n_context), target))
    return [max(0, target - n_context + i) for i in range(n_context)]


def radius_reach(radius: float, window: str = 'disc') -> int:
    """Largest row or column offset that can lie inside the window.

    The official disc mask compares a float32 distance with ``radius`` cast
    to float32; an offset ``d`` along one axis passes when ``d < radius``,
    so the reach is ``ceil(float32(radius)) - 1``. The square window keeps
    ``d <= radius``: the reach is ``floor(radius)``.
    """
    if window == 'square':
        return math.floor(radius)
    radius32 = torch.tensor(radius, dtype=torch.float32).item()
    return max(math.ceil(radius32) - 1, 0)


def within_radius(target_rows: torch.Tensor, target_cols: torch.Tensor,
                  source_rows: torch.Tensor, source_cols: torch.Tensor,
                  radius: float,
                  window: str = 'disc') -> torch.Tensor:
    """Window test between every target cell and every source cell.

    ``'disc'`` is evaluated exactly as CRW's ``MaskedAttention.make``:
    integer squared distance, cast to float32, ``** 0.5``, ``< radius``;
    ``'square'`` as VFS's ``spatial_neighbor(mode='square')`` with
    ``neighbor_range = 2 * radius``: ``max(|dy|, |dx|) <= radius``.

    Args:
        target_rows, target_cols: ``(N,)`` int64 grid coordinates.
        source_rows, source_cols: ``(M,)`` int64 grid coordinates.
        radius: The radius (half-size of the square) in grid cells.
        window: One of :data:`WINDOWS`.

    Returns:
        torch.Tensor: ``(N, M)`` bool, True where the source is kept.
    """
    if window == 'square':
        return torch.maximum(
            (target_rows[:, None] - source_rows[None]).abs(),
            (target_cols[:, None] - source_cols[None]).abs()) <= radius
    squared = ((target_rows[:, None] - source_rows[None])**2 +
               (target_cols[:, None] - source_cols[None])**2)
    return squared.float()**0.5 < radius


class Tile(NamedTuple):
    """A rectangle of target cells and the source window it needs.

    ``rows``/``cols`` are the target cells ``[start, stop)``;
    ``window_rows``/``window_cols`` the source cells within ``reach`` of
    any of them, clipped to the grid.
    """
    rows: slice
    cols: slice
    window_rows: slice
    window_cols: slice


def iter_tiles(grid_height: int, grid_width: int, tile_size: int,
               reach: int) -> Iterator[Tile]:
    """Cover the grid with ``tile_size x tile_size`` target tiles.

    Yields:
        Tile: row-major over the grid; edge tiles are smaller.
    """
    for row in range(0, grid_height, tile_size):
        row_stop = min(row + tile_size, grid_height)
        window_rows = slice(
            max(row - reach, 0), min(row_stop + reach, grid_height))
        for col in range(0, grid_width, tile_size):
            col_stop = min(col + tile_size, grid_width)
            window_cols = slice(
                max(col - reach, 0), min(col_stop + reach, grid_width))
            yield Tile(
                slice(row, row_stop), slice(col, col_stop), window_rows,
                window_cols)


def grid_coordinates(rows: slice, cols: slice,
                     device: torch.device) -> torch.Tensor:
    """Row-major ``(2, n)`` int64 (row, col) coordinates of a rectangle."""
    row_ids = torch.arange(rows.start, rows.stop, device=device)
    col_ids = torch.arange(cols.start, cols.stop, device=device)
    grid_rows, grid_cols = torch.meshgrid(row_ids, col_ids, indexing='ij')
    return torch.stack([grid_rows.reshape(-1), grid_cols.reshape(-1)])
