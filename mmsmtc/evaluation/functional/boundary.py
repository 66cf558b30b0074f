"""Boundary maps and the boundary F-measure of the DAVIS benchmark.

The definitions follow the official ``davis2017-evaluation`` tool exactly:

- the boundary map of a binary mask marks a pixel when the mask differs
  between it and its east, south or south-east neighbour, using only
  neighbours inside the image (the last row compares east only, the last
  column south only, the bottom-right pixel is never a boundary);
- a boundary pixel is matched when a boundary pixel of the other mask lies
  within a disk of ``ceil(bound_th * sqrt(H^2 + W^2))`` pixels (skimage's
  ``disk``: integer offsets with ``dx^2 + dy^2 <= r^2``);
- precision and recall take the documented corner values when one or both
  boundaries are empty, and ``F = 2PR / (P + R)`` (0 when ``P + R = 0``).

Besides the single-pair reference functions, :func:`pairwise_boundary_f`
computes F for every (prediction object, ground-truth object) pair of one
frame from two id maps, extracting and dilating each object's boundary once.
"""
from typing import List, Optional, Tuple

import cv2
import numpy as np

#: Boundary tolerance of DAVIS as a fraction of the image diagonal.
DEFAULT_BOUND_TH = 0.008

# (rows of the pixel, columns of the pixel, row step, column step) of the
# three neighbour comparisons of the boundary map, restricted to pixels whose
# neighbour lies inside the image.
_NEIGHBOURS = (
    (slice(None), slice(None, -1), 0, 1),  # east
    (slice(None, -1), slice(None), 1, 0),  # south
    (slice(None, -1), slice(None, -1), 1, 1),  # south-east
)


def disk_kernel(radius: float) -> np.ndarray:
    """Return skimage's ``morphology.disk(radius)`` as a uint8 kernel.

    Args:
        radius: Disk radius in pixels (an integral value, possibly float).

    Returns:
        np.ndarray: ``(2r + 1, 2r + 1)`` uint8, 1 where ``x^2 + y^2 <= r^2``.
    """
    offsets = np.arange(-radius, radius + 1)
    cols, rows = np.meshgrid(offsets, offsets)
    return (cols**2 + rows**2 <= radius**2).astype(np.uint8)


def boundary_tolerance(height: int,
                       width: int,
                       bound_th: float = DEFAULT_BOUND_TH) -> float:
    """Return the boundary matching radius in pixels for an image size.

    ``bound_th >= 1`` is a radius in pixels; below 1 it is a fraction of the
    image diagonal, rounded up (8 px at 480x854, 9 at 480x910).
    """
    if bound_th >= 1:
        return bound_th
    return float(np.ceil(bound_th * np.linalg.norm((height, width))))


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """Return the one-pixel-wide boundary map of a binary mask.

    Args:
        mask: ``(H, W)`` array, nonzero inside the object.

    Returns:
        np.ndarray: ``(H, W)`` bool boundary map (the official ``_seg2bmap``
        at full resolution).
    """
    if mask.ndim != 2:
        raise ValueError(f'boundary_map expects an (H, W) mask, got shape '
                         f'{mask.shape}')
    seg = mask.astype(bool)
    boundary = np.zeros_like(seg)
    for rows, cols, row_step, col_step in _NEIGHBOURS:
        height, width = seg[rows, cols].shape
        neighbour = seg[row_step:row_step + height, col_step:col_step + width]
        boundary[rows, cols] |= seg[rows, cols] ^ neighbour
    return boundary


def _dilate(boundary: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Dilate a ``(H, W)`` bool map with a uint8 kernel; ``(H, W)`` uint8."""
    return cv2.dilate(boundary.astype(np.uint8), kernel)


def _f_from_counts(fg_matched, num_fg, gt_matched, num_gt) -> np.ndarray:
    """Boundary F from match counts, with the official corner cases.

    All arguments broadcast together; returns float64 F of that shape.
    """
    fg_matched, num_fg, gt_matched, num_gt = np.broadcast_arrays(
        *(np.asarray(value, dtype=np.float64)
          for value in (fg_matched, num_fg, gt_matched, num_gt)))
    precision = np.ones(num_fg.shape)
    recall = np.ones(num_fg.shape)
    both = (num_fg > 0) & (num_gt > 0)
    np.divide(fg_matched, num_fg, out=precision, where=both)
    np.divide(gt_matched, num_gt, out=recall, where=both)
    precision[(num_fg > 0) & (num_gt == 0)] = 0
    recall[(num_fg == 0) & (num_gt > 0)] = 0
    denominator = precision + recall
    f_measure = np.zeros(num_fg.shape)
    np.divide(2 * precision * recall,
              denominator,
              out=f_measure,
              where=denominator != 0)
    return f_measure


def boundary_f_measure(gt_mask: np.ndarray,
                       pred_mask: np.ndarray,
                       void_mask: Optional[np.ndarray] = None,
                       bound_th: float = DEFAULT_BOUND_TH) -> float:
    """Boundary F-measure of one binary prediction against one ground truth.

    The single-pair reference definition (official ``f_measure``).

    Args:
        gt_mask: ``(H, W)`` binary ground truth.
        pred_mask: ``(H, W)`` binary prediction.
        void_mask: Optional ``(H, W)`` binary mask of pixels removed from
            both masks before their boundaries are taken.
        bound_th: Tolerance, see :func:`boundary_tolerance`.

    Returns:
        float: F in ``[0, 1]``.
    """
    if gt_mask.shape != pred_mask.shape or gt_mask.ndim != 2:
        raise ValueError(f'boundary_f_measure needs two (H, W) masks of one '
                         f'size, got {gt_mask.shape} and {pred_mask.shape}')
    keep = np.ones(gt_mask.shape,
                   bool) if void_mask is None else ~(void_mask.astype(bool))
    gt_boundary = boundary_map(gt_mask.astype(bool) & keep)
    pred_boundary = boundary_map(pred_mask.astype(bool) & keep)
    kernel = disk_kernel(boundary_tolerance(*gt_mask.shape, bound_th))
    fg_matched = np.count_nonzero(pred_boundary
                                  & (_dilate(gt_boundary, kernel) > 0))
    gt_matched = np.count_nonzero(gt_boundary
                                  & (_dilate(pred_boundary, kernel) > 0))
    return float(
        _f_from_counts(fg_matched, np.count_nonzero(pred_boundary), gt_matched,
                       np.count_nonzero(gt_boundary)))


def nonzero_box(ids: np.ndarray) -> Optional[Tuple[int, int, int, int]]:
    """``(top, bottom, left, right)`` (end exclusive) of the nonzero pixels.

    Args:
        ids: ``(H, W)`` uint8 id map.

    Returns:
        tuple or None: The bounding box, None for an all-zero map.

    Raises:
        TypeError: If ``ids`` is not uint8.
    """
    if ids.dtype != np.uint8:
        raise TypeError(f'expected uint8 id maps, got {ids.dtype}')
    left, top, width, height = cv2.boundingRect(np.ascontiguousarray(ids))
    if not width:
        return None
    return top, top + height, left, left + width


def _crop_to_objects(ids: np.ndarray) -> Optional[Tuple[int, int, int, int]]:
    """``(top, bottom, left, right)`` (end exclusive) of a crop of ``ids``
    holding every boundary pixel.

    Boundary pixels of nonzero ids lie in the bounding box of the nonzero
    pixels grown by one pixel towards the origin; one more row and column
    below and right (all background) keep the in-image neighbour rule of the
    crop's last row and column identical to the full image's. Returns None
    for an all-background map.
    """
    box = nonzero_box(ids)
    if box is None:
        return None
    top, bottom, left, right = box
    return (max(top - 1, 0), min(bottom + 1, ids.shape[0]), max(left - 1, 0),
            min(right + 1, ids.shape[1]))


def object_boundaries(ids: np.ndarray,
                      num_objects: int) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Boundary pixels of every object of an id map, in one pass.

    A pixel lies on the boundary of object ``k`` when, for one of its in-image
    east/south/south-east neighbours, the two ids differ and one of them is
    ``k``; this equals :func:`boundary_map` of ``ids == k`` for every ``k``.

    Args:
        ids: ``(H, W)`` uint8 id map; ids outside ``[1, num_objects]`` must
            already be 0.
        num_objects: Number of objects ``K``.

    Returns:
        list: ``K`` tuples ``(rows, cols)`` of int64 ``(N_k,)`` coordinates
        of object ``k + 1``'s boundary pixels, sorted by raster order.
    """
    empty = np.zeros(0, np.int64)
    box = _crop_to_objects(ids)
    if box is None:
        return [(empty, empty)] * num_objects
    top, bottom, left, right = box
    crop = ids[top:bottom, left:right]
    height, width = crop.shape
    differs = []
    for rows, cols, row_step, col_step in _NEIGHBOURS:
        here = crop[rows, cols]
        changed = np.zeros(crop.shape, bool)
        changed[rows, cols] = here != crop[row_step:row_step + here.shape[0],
                                           col_step:col_step + here.shape[1]]
        differs.append(changed)
    points = cv2.findNonZero(
        (differs[0] | differs[1] | differs[2]).view(np.uint8))
    if points is None:
        return [(empty, empty)] * num_objects
    points = points.reshape(-1, 2).astype(np.int64)
    ys, xs = points[:, 1], points[:, 0]
    # Candidate objects of each boundary pixel: its own id and the id of
    # every neighbour it differs from; repeated ids are zeroed.
    candidates = np.zeros((len(ys), 4), np.int64)
    candidates[:, 0] = crop[ys, xs]
    for column, (changed, (_, _, row_step,
                           col_step)) in enumerate(zip(differs, _NEIGHBOURS),
                                                   start=1):
        valid = changed[ys, xs]
        candidates[valid, column] = crop[ys[valid] + row_step,
                                         xs[valid] + col_step]
    for column in range(1, 4):
        repeated = (candidates[:, column:column +
                               1] == candidates[:, :column]).any(axis=1)
        candidates[repeated, column] = 0
    num_pixels = height * width
    flat = (ys * width + xs)[:, None]
    codes = np.sort((candidates * num_pixels + flat)[candidates > 0])
    starts = np.searchsorted(codes, np.arange(1, num_objects + 2) * num_pixels)
    boundaries = []
    for index in range(num_objects):
        flat = codes[starts[index]:starts[index +
                                          1]] - (index + 1) * num_pixels
        boundaries.append((flat // width + top, flat % width + left))
    return boundaries


def _bounding_box(
    boundaries: List[Tuple[np.ndarray, np.ndarray]]
) -> Optional[Tuple[int, int, int, int]]:
    """``(top, bottom, left, right)`` (end exclusive) of all pixels, or None."""
    rows = [rows for rows, _ in boundaries if len(rows)]
    if not rows:
        return None
    cols = [cols for rows, cols in boundaries if len(rows)]
    return (min(int(r.min()) for r in rows), max(int(r.max())
                                                 for r in rows) + 1,
            min(int(c.min()) for c in cols), max(int(c.max())
                                                 for c in cols) + 1)


class _Boundary:
    """One object's boundary pixels and their lazily computed dilation.

    The dilation is only ever read at the other id map's boundary pixels, so
    it is computed once, on demand, over the window where it can be nonzero
    *and* is read: the object's bounding box grown by the radius,
    intersected with ``query_box`` (the other map's boundary bounding box),
    plus a margin of the radius so the result inside the window is exact.

    Args:
        rows, cols: ``(N,)`` boundary pixel coordinates.
        shape: ``(H, W)`` image size.
        kernel: ``(2r + 1, 2r + 1)`` uint8 disk.
        query_box: ``(top, bottom, left, right)`` of every pixel that may be
            queried, or None when nothing will be.
    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray,
                 shape: Tuple[int, int], kernel: np.ndarray,
                 query_box: Optional[Tuple[int, int, int, int]]) -> None:
        self.rows, self.cols = rows, cols
        self.size = len(rows)
        self._shape = shape
        self._kernel = kernel
        self._dilated = None
        self.window = None
        if self.size and query_box is not None:
            radius = kernel.shape[0] // 2
            top = max(int(rows.min()) - radius, query_box[0])
            bottom = min(int(rows.max()) + radius + 1, query_box[1])
            left = max(int(cols.min()) - radius, query_box[2])
            right = min(int(cols.max()) + radius + 1, query_box[3])
            if top < bottom and left < right:
                self.window = (top, bottom, left, right)

    def _dilate(self) -> Tuple[np.ndarray, int, int]:
        """Dilation over the window grown by the radius, and its origin."""
        if self._dilated is None:
            radius = self._kernel.shape[0] // 2
            top = max(self.window[0] - radius, 0)
            bottom = min(self.window[1] + radius, self._shape[0])
            left = max(self.window[2] - radius, 0)
            right = min(self.window[3] + radius, self._shape[1])
            inside = ((self.rows >= top) & (self.rows < bottom)
                      & (self.cols >= left) & (self.cols < right))
            crop = np.zeros((bottom - top, right - left), np.uint8)
            crop[self.rows[inside] - top, self.cols[inside] - left] = 1
            self._dilated = (cv2.dilate(crop, self._kernel), top, left)
        return self._dilated

    def count_covered(self, other: '_Boundary') -> int:
        """Number of ``other``'s pixels within the dilation of this one."""
        if self.window is None or not other.size:
            return 0
        top, bottom, left, right = self.window
        inside = ((other.rows >= top) & (other.rows < bottom)
                  & (other.cols >= left) & (other.cols < right))
        if not inside.any():
            return 0
        dilated, origin_row, origin_col = self._dilate()
        return int(
            np.count_nonzero(dilated[other.rows[inside] - origin_row,
                                     other.cols[inside] - origin_col]))


def pairwise_boundary_f(gt_ids: np.ndarray,
                        pred_ids: np.ndarray,
                        num_objects: int,
                        num_proposals: int,
                        bound_th: float = DEFAULT_BOUND_TH,
                        same_ids_only: bool = False) -> np.ndarray:
    """Boundary F of every (proposal, object) pair of one frame.

    Each object's boundary is extracted once and dilated at most once; void
    pixels must already be set to 0 in both id maps.

    Args:
        gt_ids: ``(H, W)`` uint8 ground-truth ids in ``[0, num_objects]``.
        pred_ids: ``(H, W)`` uint8 predicted ids in
            ``[0, num_proposals]``.
        num_objects: Number of ground-truth objects ``G``.
        num_proposals: Number of predicted objects ``R``.
        bound_th: Tolerance, see :func:`boundary_tolerance`.
        same_ids_only: Only score pairs of equal ids (semi-supervised, where
            prediction ``k`` is only ever compared with object ``k``); the
            other entries are left at 0.

    Returns:
        np.ndarray: ``(R, G)`` float64 F; entry ``[r, g]`` compares proposal
        ``r + 1`` with object ``g + 1``.
    """
    shape = gt_ids.shape
    kernel = disk_kernel(boundary_tolerance(*shape, bound_th))
    gt_pixels = object_boundaries(gt_ids, num_objects)
    pred_pixels = object_boundaries(pred_ids, num_proposals)
    gt_box, pred_box = _bounding_box(gt_pixels), _bounding_box(pred_pixels)
    gt_boundaries = [
        _Boundary(rows, cols, shape, kernel, pred_box)
        for rows, cols in gt_pixels
    ]
    pred_boundaries = [
        _Boundary(rows, cols, shape, kernel, gt_box)
        for rows, cols in pred_pixels
    ]
    fg_matched = np.zeros((num_proposals, num_objects), np.int64)
    gt_matched = np.zeros((num_proposals, num_objects), np.int64)
    for proposal, pred in enumerate(pred_boundaries):
        for obj, gt in enumerate(gt_boundaries):
            if same_ids_only and proposal != obj:
                continue
            fg_matched[proposal, obj] = gt.count_covered(pred)
            gt_matched[proposal, obj] = pred.count_covered(gt)
    num_fg = np.array([pred.size for pred in pred_boundaries])
    num_gt = np.array([gt.size for gt in gt_boundaries])
    f_measure = _f_from_counts(fg_matched, num_fg[:, None], gt_matched,
                               num_gt[None, :])
    if same_ids_only:
        f_measure *= np.eye(num_proposals, num_objects)
    return f_measure
