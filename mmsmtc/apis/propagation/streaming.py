"""Memory-bounded, exact label propagation that consumes one frame at a time.

Implements the "Core" section of the protocol (``label_propagation.md``)
without ever forming the ``(sources x cells) x cells`` affinity:

* frame 0 (long-term memory) is scored densely, in bounded blocks of
  target cells, keeping only each target's top-k;
* the rest runs in ``tile_size x tile_size`` tiles of target cells;
* a short-term source frame is scored only on the window of cells within
  ``radius`` of the tile (cells outside the radius get the official excluded
  logit ``(-1e10 + cos) / temperature``, which in float32 is
  ``-1e10 / temperature``, and a softmax weight of exactly 0);
* each source group keeps its own top-k, then the groups are merged; with
  the tie rule of :mod:`.topk` this is exactly the top-k over all sources.

The frame-0 copies that pad the short-term list early in the video are
scored on their window once, whatever their number. Only frame 0 and the
last ``n_context`` frames are kept.
"""
from typing import Dict, List, Tuple, Union

import torch
import torch.nn.functional as F

from .geometry import (context_frame_indices, grid_coordinates, iter_tiles,
                       radius_reach, within_radius)
from .topk import merge_topk, topk_lowest_index
from .validation import (check_first_labels, check_frame_features,
                         check_propagation_settings, check_topk_fits)

DeviceLike = Union[str, torch.device, None]

#: The official additive mask value of an excluded short-term source cell.
EXCLUDED_MASK_VALUE = -1e10
#: Most frame-0 logits held at once (64 MiB in float32).
FRAME0_BLOCK_ELEMENTS = 2**24
#: Radius masks kept, one per tile-in-window geometry (first in, first out).
WINDOW_MASK_CACHE_SIZE = 32


def excluded_logit(temperature: float,
                   dtype: torch.dtype = torch.float32) -> float:
    """The logit given to an excluded cell: ``-1e10 / temperature``.

    The official ``(-1e10 + cos) / temperature`` rounds to this value in
    float32 for any cosine; in every precision such a logit gets a softmax
    weight of exactly 0 next to any kept cell, so its exact value is moot.
    """
    return (torch.tensor(EXCLUDED_MASK_VALUE, dtype=dtype) /
            temperature).item()


def normalise_channels_last(feats: torch.Tensor,
                            dtype: torch.dtype) -> torch.Tensor:
    """L2-normalise ``(C, h, w)`` features over C into ``(h, w, C)``."""
    feats = F.normalize(feats.to(dtype), dim=0)
    return feats.permute(1, 2, 0).contiguous()


class StreamingLabelPropagation:
    """Propagate frame 0's labels to later frames, fed one frame at a time.

    Example::

        >>> engine = StreamingLabelPropagation(
        ...     feats0, labels0, topk=7, radius=7, temperature=0.2,
        ...     n_context=20)
        >>> labels1 = engine.step(feats1)  # (K, h, w)

    Args:
        first_feats: ``(C, h, w)`` features of frame 0 (not normalised).
        first_labels: ``(K, h, w)`` labels of frame 0 (soft or one-hot).
        topk, radius, temperature, n_context: The protocol settings.
        tile_size: Side of the square tiles of target cells scored together;
            it bounds memory and never changes the result.
        bank_device: Where the features and labels of the last
            ``n_context`` frames are kept (e.g. ``'cpu'`` when they do not
            fit on the accelerator); ``None`` keeps them with the features.
            Frame 0 always stays on the device of the features, where all
            scoring happens.
        dtype: The floating type of all computation (float32 by default).
    """

    def __init__(self,
                 first_feats: torch.Tensor,
                 first_labels: torch.Tensor,
                 *,
                 topk: int,
                 radius: float,
                 temperature: float,
                 n_context: int,
                 tile_size: int = 8,
                 bank_device: DeviceLike = None,
                 dtype: torch.dtype = torch.float32) -> None:
        check_propagation_settings(
            topk=topk,
            radius=radius,
            temperature=temperature,
            n_context=n_context)
        check_frame_features(first_feats, 'first_feats', ndim=3)
        grid = tuple(first_feats.shape[1:])
        check_first_labels(first_labels, grid)
        check_topk_fits(topk, n_context, grid)
        if int(tile_size) != tile_size or tile_size < 1:
            raise ValueError(
                f'tile_size must be an integer >= 1, got {tile_size!r}')
        self.topk = int(topk)
        self.radius = radius
        self.temperature = temperature
        self.n_context = int(n_context)
        self.tile_size = int(tile_size)
        self.dtype = dtype
        self.grid = grid
        self.num_channels = first_feats.shape[0]
        self.device = first_feats.device
        self.bank_device = torch.device(
            bank_device) if bank_device is not None else self.device
        self._excluded = excluded_logit(temperature, dtype)
        self._reach = radius_reach(radius)
        self._frame0 = normalise_channels_last(first_feats, dtype)
        num_labels = first_labels.shape[0]
        self._labels0 = first_labels.to(
            self.bank_device,
            dtype).permute(1, 2, 0).reshape(-1, num_labels)
        self._history = _FrameBank(self.n_context)
        self._window_masks: Dict[tuple, torch.Tensor] = {}
        self.num_frames = 1

    def step(self, feats: torch.Tensor) -> torch.Tensor:
        """Predict the next frame's soft labels and remember the frame.

        Args:
            feats: ``(C, h, w)`` features of frame ``num_frames``.

        Returns:
            torch.Tensor: ``(K, h, w)`` soft labels, on the features' device.
        """
        check_frame_features(feats, f'feats of frame {self.num_frames}',
                             ndim=3)
        if tuple(feats.shape) != (self.num_channels, *self.grid):
            raise ValueError(
                f'feats of frame {self.num_frames} has shape '
                f'{tuple(feats.shape)}, expected '
                f'{(self.num_channels, *self.grid)} like frame 0')
        target = normalise_channels_last(feats.to(self.device), self.dtype)
        context = context_frame_indices(self.num_frames, self.n_context)
        height, width = self.grid
        prediction = torch.empty(
            height,
            width,
            self._labels0.shape[1],
            dtype=self.dtype,
            device=self.device)
        frame0_values, frame0_cells = self._frame0_topk(
            target.view(-1, self.num_channels))
        for tile in iter_tiles(height, width, self.tile_size, self._reach):
            tile_feats = target[tile.rows, tile.cols].reshape(
                -1, self.num_channels)
            coords = grid_coordinates(tile.rows, tile.cols, self.device)
            tile_cells = coords[0] * width + coords[1]
            tile_labels = self._propagate_tile(tile, tile_feats, context,
                                               frame0_values[tile_cells],
                                               frame0_cells[tile_cells])
            prediction[tile.rows, tile.cols] = tile_labels.view(
                tile.rows.stop - tile.rows.start,
                tile.cols.stop - tile.cols.start, -1)
        self._remember(target, prediction)
        return prediction.permute(2, 0, 1)

    def remember(self, feats: torch.Tensor, labels: torch.Tensor) -> None:
        """Append frame ``num_frames`` with given labels instead of a step.

        The protocol only ever remembers its own predictions (``step``);
        this fills the bank without propagating, e.g. to time the steady
        state of a long video in a benchmark.

        Args:
            feats: ``(C, h, w)`` features of the frame.
            labels: ``(K, h, w)`` its labels.
        """
        check_frame_features(feats, f'feats of frame {self.num_frames}',
                             ndim=3)
        if tuple(labels.shape) != (self._labels0.shape[1], *self.grid):
            raise ValueError(f'labels of frame {self.num_frames} has shape '
                             f'{tuple(labels.shape)}, expected '
                             f'{(self._labels0.shape[1], *self.grid)}')
        target = normalise_channels_last(feats.to(self.device), self.dtype)
        self._remember(target, labels.to(self.device,
                                         self.dtype).permute(1, 2, 0))

    def _remember(self, target: torch.Tensor,
                  prediction: torch.Tensor) -> None:
        """Keep frame ``num_frames`` (``(h, w, C)`` features, ``(h, w, K)``
        labels); the oldest frame leaves the bank."""
        self._history.store(self.num_frames, target, prediction,
                            self.bank_device)
        self.num_frames += 1

    def _frame0_topk(self, target: torch.Tensor
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Top-k of frame 0 (long-term memory) for every target cell.

        Frame 0 is scored densely, in blocks of target cells whose logits
        take at most ``FRAME0_BLOCK_ELEMENTS`` values.

        Args:
            target: ``(h * w, C)`` normalised target features.

        Returns:
            tuple[Tensor, Tensor]: ``(h * w, k')`` logits and flat cells.
        """
        frame0 = self._frame0.view(-1, self.num_channels)
        block = max(1, FRAME0_BLOCK_ELEMENTS // len(frame0))
        values, cells = [], []
        for start in range(0, len(target), block):
            logits = target[start:start + block] @ frame0.T
            logits.div_(self.temperature)
            block_values, block_cells = topk_lowest_index(logits, self.topk)
            values.append(block_values)
            cells.append(block_cells)
        return torch.cat(values), torch.cat(cells)

    def _propagate_tile(self, tile, tile_feats: torch.Tensor,
                        context: List[int], frame0_values: torch.Tensor,
                        frame0_cells: torch.Tensor) -> torch.Tensor:
        """Soft labels ``(n, K)`` of the ``n`` target cells of one tile.

        Args:
            tile: The tile and its source window.
            tile_feats: ``(n, C)`` its normalised features, row-major.
            context: The short-term source frames.
            frame0_values, frame0_cells: ``(n, k')`` its frame-0 top-k.
        """
        num_cells = self.grid[0] * self.grid[1]
        group_values = [frame0_values] + [None] * len(context)
        group_cells = [frame0_cells] + [None] * len(context)

        window_cells = grid_coordinates(tile.window_rows, tile.window_cols,
                                        self.device)
        window_cells = window_cells[0] * self.grid[1] + window_cells[1]
        outside = self._window_outside(tile)
        by_frame = {}
        for frame in dict.fromkeys(context):
            logits = self._window_logits(tile, tile_feats, frame)
            logits.masked_fill_(outside, self._excluded)
            values, columns = topk_lowest_index(logits, self.topk,
                                                self._excluded)
            by_frame[frame] = (values, window_cells[columns])
        for position, frame in enumerate(context, start=1):
            group_values[position], group_cells[position] = by_frame[frame]

        order_keys = torch.cat([
            cells + position * num_cells
            for position, cells in enumerate(group_cells)
        ], 1)
        top_values, top_keys = merge_topk(
            torch.cat(group_values, 1), order_keys, self.topk)
        weights = top_values.softmax(dim=1)
        source_labels = self._gather_labels(top_keys // num_cells,
                                            top_keys % num_cells, context)
        return (source_labels * weights[..., None]).sum(1)

    def _window_logits(self, tile, tile_feats: torch.Tensor,
                       frame: int) -> torch.Tensor:
        """Logits ``(n, m)`` of the tile against a frame's source window."""
        feats = self._frame0 if frame == 0 else self._history.feats(frame)
        feats = feats[tile.window_rows, tile.window_cols]
        feats = feats.reshape(-1, self.num_channels).to(self.device)
        return (tile_feats @ feats.T).div_(self.temperature)

    def _window_outside(self, tile) -> torch.Tensor:
        """``(n, m)`` True where a window cell is not within the radius.

        Depends only on where the tile sits in its (clipped) window; the
        last ``WINDOW_MASK_CACHE_SIZE`` geometries are cached (interior
        tiles all share one).
        """
        key = (tile.rows.start - tile.window_rows.start,
               tile.rows.stop - tile.window_rows.start,
               tile.window_rows.stop - tile.window_rows.start,
               tile.cols.start - tile.window_cols.start,
               tile.cols.stop - tile.window_cols.start,
               tile.window_cols.stop - tile.window_cols.start)
        if key not in self._window_masks:
            if len(self._window_masks) == WINDOW_MASK_CACHE_SIZE:
                del self._window_masks[next(iter(self._window_masks))]
            targets = grid_coordinates(tile.rows, tile.cols, self.device)
            sources = grid_coordinates(tile.window_rows, tile.window_cols,
                                       self.device)
            self._window_masks[key] = ~within_radius(
                targets[0], targets[1], sources[0], sources[1], self.radius)
        return self._window_masks[key]

    def _gather_labels(self, positions: torch.Tensor, cells: torch.Tensor,
                       context: List[int]) -> torch.Tensor:
        """Labels ``(n, k, K)`` of the selected sources.

        Args:
            positions: ``(n, k)`` source position (0 = long-term frame 0,
                ``i + 1`` = the i-th short-term frame).
            cells: ``(n, k)`` flat cell index in that frame.
            context: The short-term frame indices.
        """
        frames = torch.tensor([0] + context, device=positions.device)
        frames = frames[positions]
        gathered = torch.empty(
            *cells.shape,
            self._labels0.shape[1],
            dtype=self.dtype,
            device=self.device)
        for frame in frames.unique().tolist():
            labels = (self._labels0
                      if frame == 0 else self._history.labels(frame))
            selected = frames == frame
            chosen_cells = cells[selected].to(labels.device)
            gathered[selected] = labels[chosen_cells].to(self.device)
        return gathered


class _FrameBank:
    """Features and labels of the last ``size`` frames, in one reused buffer.

    The buffers for all ``size`` frames are reserved when the first frame is
    stored (the steady-state footprint of any video longer than ``size``),
    and each frame overwrites the slot of the frame ``size`` steps older, so
    nothing is allocated afterwards and the heap does not fragment.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._feats = None
        self._labels = None
        self._slot_of: Dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._slot_of)

    def store(self, frame: int, feats: torch.Tensor, labels: torch.Tensor,
              device: torch.device) -> None:
        """Keep ``(h, w, C)`` features and ``(h, w, K)`` labels of ``frame``.
        """
        if self._feats is None:
            self._feats = torch.empty((self.size, *feats.shape),
                                      dtype=feats.dtype,
                                      device=device)
            self._labels = torch.empty(
                (self.size, labels.shape[0] * labels.shape[1],
                 labels.shape[2]),
                dtype=labels.dtype,
                device=device)
        if len(self._slot_of) < self.size:
            slot = len(self._slot_of)
        else:
            slot = self._slot_of.pop(frame - self.size)
        self._slot_of[frame] = slot
        self._feats[slot].copy_(feats)
        self._labels[slot].view(labels.shape).copy_(labels)

    def feats(self, frame: int) -> torch.Tensor:
        """``(h, w, C)`` normalised features of a frame in the bank."""
        return self._feats[self._slot_of[frame]]

    def labels(self, frame: int) -> torch.Tensor:
        """``(h * w, K)`` labels of a frame in the bank."""
        return self._labels[self._slot_of[frame]]
