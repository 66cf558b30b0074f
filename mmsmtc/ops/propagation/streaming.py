"""Memory-bounded, exact label propagation that consumes one frame at a time.

Implements the "Core" section of the protocol (``label_propagation.md``)
without ever forming the ``(sources x cells) x cells`` affinity:

* frame 0 (long-term memory) is scored densely, in bounded blocks of
  target cells, keeping only each target's best candidates;
* the rest runs in ``tile_size x tile_size`` tiles of target cells;
* a short-term source frame is scored only on the window of cells within
  ``radius`` of the tile (cells outside the radius get the official excluded
  logit ``(-1e10 + cos) / temperature``, which in float32 is
  ``-1e10 / temperature``, and a softmax weight of exactly 0);
* scoring is a screen in the working dtype: each source group keeps its
  ``topk + SCREEN_EXTRA`` best candidates, the groups are pooled, and every
  candidate within the proven error margin of the k-th screened logit is
  rescored in float64, where the top-k is taken with ties to the first
  source in protocol order (:mod:`.topk`). A target whose retained
  candidates might miss one above the margin (a group or the pool full of
  near-ties) is resolved from all its logits instead. The softmax and the
  label aggregation run in float64, so the result is the exact one whatever
  the tile size, device or summation order. (With ``dtype=float64`` every
  target takes that last route: float64 products as the dense reference.)

The frame-0 copies that pad the short-term list early in the video are
scored on their window once, whatever their number. Only frame 0 and the
last ``n_context`` frames are kept.

The Spa-then-Temp / VFS tracker is the same computation with three options
(``window='square'``, ``restrict_first_frame=True``, ``context='recent'``):
with ``restrict_first_frame`` frame 0 is scored on its window like the
short-term frames instead of densely.
"""
from typing import Dict, List, Optional, Tuple, Union

import torch

from mmsmtc.ops import linear
from .frame_bank import FrameBank, FrameFeatures, prepare_features
from .geometry import (context_frame_indices, grid_coordinates, iter_tiles,
                       radius_reach, within_radius)
from .topk import largest, logit_error_bound, merge_topk, pad_ragged_rows
from .validation import (check_first_labels, check_frame_features,
                         check_propagation_settings, check_topk_fits)

DeviceLike = Union[str, torch.device, None]

#: The official additive mask value of an excluded short-term source cell.
EXCLUDED_MASK_VALUE = -1e10
#: Most frame-0 logits held at once (16 MiB in float32).
FRAME0_BLOCK_ELEMENTS = 2**22
#: Bytes of radius masks kept, one per tile-in-window geometry: the first
#: geometries met are kept (tiles recur in the same order every frame, so
#: evicting would miss every time once they do not all fit).
WINDOW_MASK_CACHE_BYTES = 32 * 2**20
#: Candidates kept per source group beyond ``topk`` for the exact rescoring.
SCREEN_EXTRA = 8


def excluded_logit(temperature: float,
                   dtype: torch.dtype = torch.float32) -> float:
    """The logit given to an excluded cell: ``-1e10 / temperature``.

    The official ``(-1e10 + cos) / temperature`` rounds to this value in
    float32 for any cosine; in every precision such a logit gets a softmax
    weight of exactly 0 next to any kept cell, so its exact value is moot.
    """
    return (torch.tensor(EXCLUDED_MASK_VALUE, dtype=dtype) /
            temperature).item()


def excluded_logit_absorbs(temperature: float,
                           dtype: torch.dtype = torch.float32) -> bool:
    """Whether ``excluded + logit == excluded`` for every possible logit.

    Logits are cosines over ``temperature`` (up to rounding, at most
    ``2 / temperature`` in magnitude); adding one to the excluded logit
    then changes nothing when that is below half its spacing, as in
    float32 (spacing about ``1000 / temperature``) but not in float64.
    """
    excluded = torch.tensor(excluded_logit(temperature, dtype), dtype=dtype)
    largest_logit = torch.tensor(2 / temperature, dtype=dtype)
    return bool((excluded + largest_logit == excluded)
                and (excluded - largest_logit == excluded))


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
        window: ``'disc'`` (CRW: Euclidean grid distance ``< radius``) or
            ``'square'`` (VFS: ``max(|dy|, |dx|) <= radius``).
        restrict_first_frame: Apply the window to the frame-0 (long-term)
            source too (VFS's ``with_first_neighbor``); CRW does not.
        context: ``'pad'`` (CRW: the ``n_context`` preceding frames, padded
            with frame 0) or ``'recent'`` (VFS: frame 0 plus the real frames
            ``max(0, t - n_context) .. t - 1``, no padding).
        tile_size: Side of the square tiles of target cells scored together;
            it bounds memory and never changes the result.
        bank_device: Where the features and labels of frame 0 and the last
            ``n_context`` frames are kept (e.g. ``'cpu'`` when they do not
            fit on the accelerator); ``None`` keeps them with the features.
            A copy of frame 0 stays on the device of the features, where all
            scoring happens.
        dtype: The floating type of the screening, of the stored features
            and labels and of the output (float32 by default); candidates
            are always decided, weighted and aggregated in float64.
    """

    def __init__(self,
                 first_feats: torch.Tensor,
                 first_labels: torch.Tensor,
                 *,
                 topk: int,
                 radius: float,
                 temperature: float,
                 n_context: int,
                 window: str = 'disc',
                 restrict_first_frame: bool = False,
                 context: str = 'pad',
                 tile_size: int = 8,
                 bank_device: DeviceLike = None,
                 dtype: torch.dtype = torch.float32) -> None:
        check_propagation_settings(
            topk=topk,
            radius=radius,
            temperature=temperature,
            n_context=n_context,
            window=window,
            restrict_first_frame=restrict_first_frame,
            context=context)
        check_frame_features(first_feats, 'first_feats', ndim=3)
        grid = tuple(first_feats.shape[1:])
        check_first_labels(first_labels, grid)
        check_topk_fits(topk, n_context, grid, context)
        if int(tile_size) != tile_size or tile_size < 1:
            raise ValueError(
                f'tile_size must be an integer >= 1, got {tile_size!r}')
        self.topk = int(topk)
        self.radius = radius
        self.temperature = temperature
        self.n_context = int(n_context)
        self.window = window
        self.restrict_first_frame = restrict_first_frame
        self.context = context
        self.tile_size = int(tile_size)
        self.dtype = dtype
        self.grid = grid
        self.num_channels = first_feats.shape[0]
        self.device = first_feats.device
        self.bank_device = torch.device(
            bank_device) if bank_device is not None else self.device
        self._excluded = excluded_logit(temperature, dtype)
        # the smallest logit in ``dtype`` that is not excluded
        self._above_excluded = torch.nextafter(
            torch.tensor(self._excluded, dtype=dtype),
            torch.tensor(float('inf'), dtype=dtype)).item()
        self._mask_by_addition = excluded_logit_absorbs(temperature, dtype)
        self._margin = 2 * logit_error_bound(self.num_channels, dtype,
                                             temperature)
        self._screened = self.topk + SCREEN_EXTRA
        self._reach = radius_reach(radius, window)
        frame0 = prepare_features(first_feats, dtype,
                                  temperature)._replace(unit=None)
        self._bank = FrameBank(self.n_context, frame0,
                               first_labels.to(dtype).permute(1, 2, 0),
                               self.bank_device)
        if self.bank_device == self.device:
            frame0 = frame0._replace(
                raw=self._bank.raw[0], scale=self._bank.scale[0])
        self._frame0 = frame0
        self._window_masks: Dict[tuple, Tuple[torch.Tensor,
                                              torch.Tensor]] = {}
        self._window_mask_bytes = 0
        self.num_frames = 1

    def step(self, feats: torch.Tensor) -> torch.Tensor:
        """Predict the next frame's soft labels and remember the frame.

        Args:
            feats: ``(C, h, w)`` features of frame ``num_frames``.

        Returns:
            torch.Tensor: ``(K, h, w)`` soft labels, on the features' device.
        """
        target = self._prepare(feats)
        sources = [0] + context_frame_indices(self.num_frames,
                                              self.n_context, self.context)
        slots = torch.tensor([self._bank.slot(f) for f in sources],
                             device=self.bank_device)
        height, width = self.grid
        prediction = torch.empty(
            height,
            width,
            self._bank.labels.shape[-1],
            dtype=self.dtype,
            device=self.device)
        frame0_screen = None
        if not self.restrict_first_frame:
            frame0_screen = self._frame0_screen(
                target.unit.view(-1, self.num_channels))
        for tile in iter_tiles(height, width, self.tile_size, self._reach):
            coords = grid_coordinates(tile.rows, tile.cols, self.device)
            tile_cells = coords[0] * width + coords[1]
            tile_frame0 = None if frame0_screen is None else tuple(
                part[tile_cells] for part in frame0_screen)
            tile_labels = self._propagate_tile(tile, target, sources, slots,
                                               tile_frame0)
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
        num_labels = self._bank.labels.shape[-1]
        if tuple(labels.shape) != (num_labels, *self.grid):
            raise ValueError(f'labels of frame {self.num_frames} has shape '
                             f'{tuple(labels.shape)}, expected '
                             f'{(num_labels, *self.grid)}')
        target = self._prepare(feats)
        self._remember(target, labels.to(self.device,
                                         self.dtype).permute(1, 2, 0))

    def _prepare(self, feats: torch.Tensor) -> FrameFeatures:
        """Check the next frame's ``(C, h, w)`` features and prepare them."""
        check_frame_features(feats, f'feats of frame {self.num_frames}',
                             ndim=3)
        if tuple(feats.shape) != (self.num_channels, *self.grid):
            raise ValueError(
                f'feats of frame {self.num_frames} has shape '
                f'{tuple(feats.shape)}, expected '
                f'{(self.num_channels, *self.grid)} like frame 0')
        return prepare_features(
            feats.to(self.device), self.dtype, self.temperature)

    def _remember(self, target: FrameFeatures,
                  prediction: torch.Tensor) -> None:
        """Keep frame ``num_frames`` with its ``(h, w, K)`` labels; the
        oldest frame leaves the bank."""
        self._bank.store(self.num_frames, target, prediction)
        self.num_frames += 1

    def _frame0_screen(self, target: torch.Tensor
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Best screened frame-0 (long-term) candidates of every target.

        Frame 0 is scored densely, in blocks of target cells whose logits
        take at most ``FRAME0_BLOCK_ELEMENTS`` values.

        Args:
            target: ``(h * w, C)`` normalised target features.

        Returns:
            tuple[Tensor, Tensor]: ``(h * w, r)`` screened logits,
            descending, and their flat cells, ``r = min(topk +
            SCREEN_EXTRA, h * w)``.
        """
        frame0 = self._frame0.raw.view(-1, self.num_channels)
        scale = self._frame0.scale.view(-1)
        block = max(1, FRAME0_BLOCK_ELEMENTS // len(frame0))
        kept = min(self._screened, len(frame0))
        values, cells = [], []
        for start in range(0, len(target), block):
            logits = linear(target[start:start + block], frame0).mul_(scale)
            block_values, block_cells = largest(logits, kept)
            values.append(block_values)
            cells.append(block_cells)
        return torch.cat(values), torch.cat(cells)

    def _windowed_sources(self, sources: List[int]
                          ) -> Tuple[List[int], List[int], List[int]]:
        """How the windowed source positions are scored.

        Args:
            sources: The source frame of each position (frame 0 first).

        Returns:
            tuple[list, list, list]: the distinct windowed frames, the
            first position of each, and the later positions of frame 0
            (its copies: scored once, repeated by
            :meth:`_repeat_frame0_copies`). Only frame 0 can repeat.
        """
        first = 0 if self.restrict_first_frame else 1
        frames = list(dict.fromkeys(sources[first:]))
        positions = [sources.index(frame, first) for frame in frames]
        copies = [p for p in range(first, len(sources)) if sources[p] == 0]
        return frames, positions, copies[1:]

    def _propagate_tile(self, tile, target: FrameFeatures,
                        sources: List[int], slots: torch.Tensor,
                        frame0_screen: Optional[Tuple[torch.Tensor,
                                                      torch.Tensor]]
                        ) -> torch.Tensor:
        """Soft labels ``(n, K)`` of the ``n`` target cells of one tile.

        Args:
            tile: The tile and its source window.
            target: The target frame's features.
            sources: The source frame of each position (frame 0 first).
            slots: Bank slot of each source position.
            frame0_screen: ``(n, r)`` frame-0 screen (values, cells) of the
                tile, or None when frame 0 is windowed.
        """
        num_cells = self.grid[0] * self.grid[1]
        tile_unit = target.unit[tile.rows, tile.cols].reshape(
            -1, self.num_channels)
        reachable, outside = self._window_geometry(tile)
        window_cells = grid_coordinates(tile.window_rows, tile.window_cols,
                                        self.device)
        window_cells = (window_cells[0] * self.grid[1] +
                        window_cells[1])[reachable]
        frames, positions, copies = self._windowed_sources(sources)
        logits = self._window_logits(tile_unit, frames, window_cells,
                                     outside)
        context_values, columns = largest(logits.flatten(1), self._screened)
        frame_positions = torch.tensor(positions, device=self.device)
        context_keys = (frame_positions[columns // len(window_cells)] *
                        num_cells + window_cells[columns % len(window_cells)])
        pooled_values, pooled_keys = context_values, context_keys
        if frame0_screen is not None:
            pooled_values = torch.cat([frame0_screen[0], context_values], 1)
            pooled_keys = torch.cat([frame0_screen[1], context_keys], 1)
        kept = min(self._screened, pooled_values.shape[1])
        screened, picked = pooled_values.topk(kept, dim=1)
        keys = pooled_keys.gather(1, picked)
        threshold = screened[:, min(self.topk, kept) - 1] - self._margin
        complete = self._screen_is_complete(screened, pooled_values.shape[1],
                                            threshold)
        if frame0_screen is not None:
            complete &= self._screen_is_complete(frame0_screen[0], num_cells,
                                                 threshold)
        complete &= self._screen_is_complete(
            context_values, logits.shape[1] * logits.shape[2], threshold)

        coords = grid_coordinates(tile.rows, tile.cols, self.device)
        tile_cells = coords[0] * self.grid[1] + coords[1]
        target64 = target.raw.view(-1, self.num_channels)[tile_cells].double()
        target64 /= target.norm.view(-1)[tile_cells, None]
        exact = self._exact_candidates(target64, keys, slots)
        exact.masked_fill_(screened == self._excluded, float('-inf'))
        exact, keys = self._repeat_frame0_copies(exact, keys, positions[0],
                                                 copies, frames[0] == 0)
        labels = self._aggregate(exact, keys, slots)
        if self.dtype == torch.float64:
            complete[:] = False
        unresolved = (~complete).nonzero().squeeze(1)
        if len(unresolved):
            labels[unresolved] = self._propagate_unresolved(
                unresolved, tile_cells[unresolved], threshold[unresolved],
                tile_unit, target64, logits, frame_positions, window_cells,
                (positions[0], copies, frames[0] == 0), slots)
        return labels.to(self.dtype)

    def _repeat_frame0_copies(self, exact: torch.Tensor, keys: torch.Tensor,
                              first: int, copies: List[int],
                              windowed_frame0: bool
                              ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Give each copy of frame 0 among the windowed sources its own
        candidates.

        Early in the video several windowed positions hold frame 0 (the
        padding of ``context='pad'``; with ``context='recent'`` frame 0 is
        a real context frame up to ``t = n_context``); it is screened once,
        at its first windowed position ``first``. Each of its candidates is
        a candidate at the positions ``copies`` too, with the same logit
        (the protocol scores every copy); entries of other groups are
        repeated as ``-inf`` placeholders (key 0, softmax weight 0).

        Args:
            exact: ``(n, r)`` float64 logits.
            keys: ``(n, r)`` their source-order keys.
            first: The position frame 0 is screened at.
            copies: Its later windowed positions.
            windowed_frame0: Whether frame 0 is among the windowed sources.

        Returns:
            tuple[Tensor, Tensor]: ``(n, r * (1 + len(copies)))`` logits and
            keys.
        """
        if not windowed_frame0 or not copies:
            return exact, keys
        num_cells = self.grid[0] * self.grid[1]
        is_copy = keys // num_cells == first
        repeated_exact = exact.masked_fill(~is_copy, float('-inf'))
        all_exact, all_keys = [exact], [keys]
        for position in copies:
            all_exact.append(repeated_exact)
            all_keys.append(
                torch.where(is_copy, keys + (position - first) * num_cells,
                            0))
        return torch.cat(all_exact, 1), torch.cat(all_keys, 1)

    def _screen_is_complete(self, values: torch.Tensor, candidates: int,
                            threshold: torch.Tensor) -> torch.Tensor:
        """``(n,)`` True where a screen holds every candidate that matters.

        A group (or the pool) kept its best ``values`` (``(n, r)``,
        descending) of ``candidates``; those it dropped are at most its last
        kept value, so nothing above ``threshold`` is lost when all were
        kept, when that value is below ``threshold``, or when it is the
        excluded logit (what it dropped then has a softmax weight of 0).
        """
        if values.shape[1] == candidates:
            return torch.ones(len(values), dtype=torch.bool,
                              device=values.device)
        last = values[:, -1]
        return (last < threshold) | (last <= self._excluded)

    def _window_logits(self, tile_unit: torch.Tensor, frames: List[int],
                       window_cells: torch.Tensor,
                       outside: torch.Tensor) -> torch.Tensor:
        """Screened logits ``(n, f, m)`` of the tile's ``n`` targets against
        the window cells ``(m,)`` of ``f`` frames, the official excluded
        logit outside the radius (``outside``: ``(n, m)``).

        Where the excluded logit absorbs any logit in the working dtype
        (float32: its spacing is about ``1000 / temperature``, a logit is at
        most about ``1 / temperature``), the mask is applied by adding it
        (0 or the excluded logit) in the same pass as the scaling.
        """
        logits = tile_unit.new_empty(
            (len(tile_unit), len(frames), len(window_cells)))
        mask = None
        if self._mask_by_addition:
            mask = torch.zeros_like(outside, dtype=self.dtype).masked_fill_(
                outside, self._excluded)
        cells = window_cells.to(self.bank_device)
        for index, frame in enumerate(frames):
            slot = self._bank.slot(frame)
            feats = self._bank.raw[slot].view(-1, self.num_channels)
            scale = self._bank.scale[slot].view(-1).index_select(0, cells)
            products = linear(tile_unit,
                              feats.index_select(0, cells).to(self.device))
            if mask is None:
                torch.mul(products, scale.to(self.device),
                          out=logits[:, index])
            else:
                torch.addcmul(mask, products, scale.to(self.device),
                              out=logits[:, index])
        if mask is None:
            logits.masked_fill_(outside[:, None], self._excluded)
        return logits

    def _exact_candidates(self, target64: torch.Tensor, keys: torch.Tensor,
                          slots: torch.Tensor) -> torch.Tensor:
        """Float64 logits ``(n, r)`` of each target's candidates ``keys``.

        One matrix product of the targets ``(n, C)`` with the distinct
        candidates, like the dense reference's products (a row-by-row
        matrix-vector product rounds differently in the last bit, which
        decides exact float64 ties of identical features).
        """
        distinct, where = torch.unique(keys, return_inverse=True)
        sources = self._exact_sources(distinct, slots)
        return (target64 @ sources.T).div_(self.temperature).gather(1, where)

    def _exact_sources(self, keys: torch.Tensor,
                       slots: torch.Tensor) -> torch.Tensor:
        """Float64 unit features ``(*keys.shape, C)`` of candidate sources.

        Args:
            keys: Candidates' source-order keys.
            slots: Bank slot of each source position.
        """
        rows = self._bank_rows(keys, slots)
        sources = self._bank.flat(self._bank.raw)[rows].to(
            self.device, torch.float64)
        sources /= self._bank.flat(self._bank.norm)[rows].to(
            self.device)[..., None]
        return sources

    def _bank_rows(self, keys: torch.Tensor,
                   slots: torch.Tensor) -> torch.Tensor:
        """Flat bank rows (on the bank device) of source-order keys."""
        num_cells = self.grid[0] * self.grid[1]
        keys = keys.to(self.bank_device)
        return slots[keys // num_cells] * num_cells + keys % num_cells

    def _aggregate(self, exact: torch.Tensor, keys: torch.Tensor,
                   slots: torch.Tensor) -> torch.Tensor:
        """Exact top-k, softmax and weighted labels, all in float64.

        Args:
            exact: ``(n, r)`` float64 logits of a superset of each target's
                top-k (``-inf`` for candidates that cannot matter).
            keys: ``(n, r)`` their source-order keys.
            slots: Bank slot of each source position.

        Returns:
            torch.Tensor: ``(n, K)`` float64 soft labels.
        """
        values, keys = merge_topk(exact, keys, self.topk)
        weights = values.softmax(dim=1)
        labels = self._bank.flat(self._bank.labels)[self._bank_rows(
            keys, slots)].to(self.device, torch.float64)
        return (labels * weights[..., None]).sum(1)

    def _propagate_unresolved(self, rows: torch.Tensor,
                              target_cells: torch.Tensor,
                              threshold: torch.Tensor,
                              tile_unit: torch.Tensor,
                              target64: torch.Tensor, logits: torch.Tensor,
                              frame_positions: torch.Tensor,
                              window_cells: torch.Tensor,
                              copies: Tuple[int, List[int], bool],
                              slots: torch.Tensor) -> torch.Tensor:
        """Labels ``(u, K)`` of targets whose screens may have dropped a
        candidate (flat regions: many near-ties within the margin).

        Every source cell with a screened logit ``>= threshold`` for any of
        these targets is rescored against all of them by one float64
        product (frame 0's logits are recomputed for these rows), so the
        exact top-k is among the rescored logits.

        Args:
            rows: ``(u,)`` the targets' rows in the tile.
            target_cells: ``(u,)`` their flat cells in the frame.
            threshold: ``(u,)`` their k-th screened logit minus the margin.
            tile_unit: ``(n, C)`` the tile's unit features.
            target64: ``(n, C)`` the same in float64.
            logits: ``(n, f, m)`` screened window logits of the ``f``
                distinct context frames.
            frame_positions: ``(f,)`` their first source position.
            window_cells: ``(m,)`` flat cells of the window.
            copies: The arguments of :meth:`_repeat_frame0_copies` after
                ``exact`` and ``keys``.
            slots: Bank slot of each source position.
        """
        num_cells = self.grid[0] * self.grid[1]
        frame0_cells = window_cells[:0]
        if not self.restrict_first_frame:
            frame0 = self._frame0.raw.view(-1, self.num_channels)
            frame0_logits = linear(tile_unit[rows], frame0).mul_(
                self._frame0.scale.view(-1))
            frame0_cells = (frame0_logits >=
                            threshold[:, None]).any(0).nonzero()[:, 0]
        above = self._any_above(logits, rows, threshold)
        frame_index, columns = above.nonzero().unbind(1)
        cells = window_cells[columns]
        positions = frame_positions[frame_index]
        keys = torch.cat([frame0_cells, positions * num_cells + cells])
        exact = (target64[rows] @ self._exact_sources(keys, slots).T).div_(
            self.temperature)
        inside = within_radius(target_cells // self.grid[1],
                               target_cells % self.grid[1],
                               cells // self.grid[1], cells % self.grid[1],
                               self.radius, self.window)
        exact[:, len(frame0_cells):].masked_fill_(~inside, float('-inf'))
        exact, keys = self._repeat_frame0_copies(
            exact, keys.expand(len(rows), -1), *copies)
        kth = exact.topk(min(self.topk, exact.shape[1]), dim=1).values[:, -1]
        found_rows, columns = (exact >= kth[:, None]).nonzero().unbind(1)
        values, keys = pad_ragged_rows(found_rows, exact[found_rows, columns],
                                       keys[found_rows, columns], len(rows))
        return self._aggregate(values, keys, slots)

    def _any_above(self, logits: torch.Tensor, rows: torch.Tensor,
                   threshold: torch.Tensor) -> torch.Tensor:
        """``(f, m)`` True where some target ``rows[i]`` has a logit that is
        ``>= threshold[i]`` and not excluded (``logits``: ``(n, f, m)``).

        One comparison pass per row, without copying the rows out.
        """
        bounds = threshold.clamp_min(self._above_excluded).tolist()
        above = torch.zeros(logits.shape[1:], dtype=torch.bool,
                            device=logits.device)
        hits = torch.empty_like(above)
        for row, bound in zip(rows.tolist(), bounds):
            torch.ge(logits[row], bound, out=hits)
            above.logical_or_(hits)
        return above

    def _window_geometry(self, tile) -> Tuple[torch.Tensor, torch.Tensor]:
        """Which window cells any target of the tile reaches, and the mask.

        Depends only on where the tile sits in its (clipped) window; the
        geometries met first are cached, up to ``WINDOW_MASK_CACHE_BYTES``
        (interior tiles all share one).

        Returns:
            tuple[Tensor, Tensor]: ``(m,)`` indices (row-major in the
            window) of the cells within the radius of some target, and
            ``(n, m)`` True where such a cell is not within the radius of a
            target.
        """
        key = (tile.rows.start - tile.window_rows.start,
               tile.rows.stop - tile.window_rows.start,
               tile.window_rows.stop - tile.window_rows.start,
               tile.cols.start - tile.window_cols.start,
               tile.cols.stop - tile.window_cols.start,
               tile.window_cols.stop - tile.window_cols.start)
        entry = self._window_masks.get(key)
        if entry is None:
            targets = grid_coordinates(tile.rows, tile.cols, self.device)
            sources = grid_coordinates(tile.window_rows, tile.window_cols,
                                       self.device)
            inside = within_radius(targets[0], targets[1], sources[0],
                                   sources[1], self.radius, self.window)
            reachable = inside.any(0).nonzero()[:, 0]
            entry = (reachable, ~inside[:, reachable])
            size = _nbytes(entry)
            if self._window_mask_bytes + size <= WINDOW_MASK_CACHE_BYTES:
                self._window_masks[key] = entry
                self._window_mask_bytes += size
        return entry


def _nbytes(tensors: Tuple[torch.Tensor, ...]) -> int:
    """Bytes held by some tensors."""
    return sum(t.numel() * t.element_size() for t in tensors)
