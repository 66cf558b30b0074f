"""Memory-bounded, exact label propagation that consumes one frame at a time.

Implements the "Core" section of the protocol (``label_propagation.md``)
without ever forming the ``(sources x cells) x cells`` affinity:

* targets are processed in ``tile_size x tile_size`` tiles of grid cells;
* frame 0 (long-term memory) is scored densely against a tile;
* a short-term source frame is scored only on the window of cells within
  ``radius`` of the tile (cells outside the radius get the official excluded
  logit ``(-1e10 + cos) / temperature``, which in float32 is
  ``-1e10 / temperature``, and a softmax weight of exactly 0);
* each source group keeps its own top-k, then the groups are merged; with
  the tie rule of :mod:`.topk` this is exactly the top-k over all sources.

Frame-0 copies that pad the short-term list early in the video reuse the
frame-0 logits, so they tie bit-for-bit with the long-term entry as in the
dense computation. Only frame 0 and the last ``n_context`` frames are kept.
"""
from typing import Dict, List, Optional, Tuple, Union

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
                 tile_size: int = 16,
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
        self._history: Dict[int, Tuple[torch.Tensor, torch.Tensor]] = {}
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
        for tile in iter_tiles(height, width, self.tile_size, self._reach):
            tile_feats = target[tile.rows, tile.cols].reshape(
                -1, self.num_channels)
            tile_labels = self._propagate_tile(tile, tile_feats, context)
            prediction[tile.rows, tile.cols] = tile_labels.view(
                tile.rows.stop - tile.rows.start,
                tile.cols.stop - tile.cols.start, -1)
        self._remember(target, prediction)
        return prediction.permute(2, 0, 1)

    def _remember(self, target: torch.Tensor,
                  prediction: torch.Tensor) -> None:
        """Keep frame ``num_frames`` and drop frames no longer in context."""
        frame = self.num_frames
        self._history[frame] = (
            target.to(self.bank_device),
            prediction.reshape(-1, prediction.shape[-1]).to(self.bank_device))
        self.num_frames += 1
        oldest_needed = self.num_frames - self.n_context
        for old in [f for f in self._history if f < oldest_needed]:
            del self._history[old]

    def _propagate_tile(self, tile, tile_feats: torch.Tensor,
                        context: List[int]) -> torch.Tensor:
        """Soft labels ``(n, K)`` of the ``n`` target cells of one tile."""
        num_cells = self.grid[0] * self.grid[1]
        frame0_logits = tile_feats @ self._frame0.view(-1,
                                                       self.num_channels).T
        frame0_logits.div_(self.temperature)
        group_values = [None] * (1 + len(context))
        group_cells = [None] * (1 + len(context))
        group_values[0], group_cells[0] = topk_lowest_index(
            frame0_logits, self.topk)

        window_cells = grid_coordinates(tile.window_rows, tile.window_cols,
                                        self.device)
        window_cells = window_cells[0] * self.grid[1] + window_cells[1]
        inside = self._window_mask(tile)
        by_frame = {}
        for frame in dict.fromkeys(context):
            logits = self._window_logits(tile, tile_feats, frame,
                                         frame0_logits)
            logits.masked_fill_(~inside, self._excluded)
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

    def _window_logits(self, tile, tile_feats: torch.Tensor, frame: int,
                       frame0_logits: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, m)`` of the tile against a frame's source window."""
        if frame == 0:
            window = frame0_logits.view(-1, *self.grid)[:, tile.window_rows,
                                                        tile.window_cols]
            return window.clone(
                memory_format=torch.contiguous_format).view(
                    len(tile_feats), -1)
        feats = self._history[frame][0][tile.window_rows, tile.window_cols]
        feats = feats.reshape(-1, self.num_channels).to(self.device)
        return (tile_feats @ feats.T).div_(self.temperature)

    def _window_mask(self, tile) -> torch.Tensor:
        """``(n, m)`` radius test of the tile against its window (cached)."""
        key = (tile.rows.start - tile.window_rows.start,
               tile.rows.stop - tile.window_rows.start,
               tile.window_rows.stop - tile.window_rows.start,
               tile.cols.start - tile.window_cols.start,
               tile.cols.stop - tile.window_cols.start,
               tile.window_cols.stop - tile.window_cols.start)
        if key not in self._window_masks:
            targets = grid_coordinates(tile.rows, tile.cols, self.device)
            sources = grid_coordinates(tile.window_rows, tile.window_cols,
                                       self.device)
            self._window_masks[key] = within_radius(targets[0], targets[1],
                                                    sources[0], sources[1],
                                                    self.radius)
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
            labels = self._labels0 if frame == 0 else self._history[frame][1]
            selected = frames == frame
            chosen_cells = cells[selected].to(labels.device)
            gathered[selected] = labels[chosen_cells].to(self.device)
        return gathered
