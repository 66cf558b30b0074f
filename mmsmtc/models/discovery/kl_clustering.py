"""Betrayed by Attention's clustering: threshold merging on symmetric KL.

The official ``src/eval_oneshot.py`` (``hierarchical_cluster`` and its
memory-efficient twin) groups the attention distributions of all patches of
a video (one row per patch, one column per key-frame patch) without a fixed
number of clusters:

1. **Level 1**, per window of ``window`` frames (``t0 = 0, w, 2w, ...``) on
   its ``n = w * N`` rows ``S``:

   a. *Smoothing*: ``D = kl(S, S)``; row ``i`` becomes the L1-normalised sum
      of the rows ``j`` with ``D[i, j] <= tau`` (its ``tau``-neighbourhood,
      itself included).
   b. *Leader pass* on the smoothed rows: in row order, every row not yet
      taken takes all rows not yet taken within ``tau`` of it (itself
      included); their plain mean is a centroid.

   The centroids of all windows are concatenated in window order.
2. **Level 2**: leader passes over the centroids until a pass does not
   reduce their number (at most ``max_passes``).
3. **Assignment**: every row takes its nearest centroid (``argmin`` of
   ``kl(centroids, rows)``).

``kl(x, y) = KL(x || y) + KL(y || x)`` is computed as cross-entropies minus
entropies (two matrix products). The official code takes ``log`` of the
probabilities as they are (``eps=None`` here, the default): an exact zero
makes distances NaN, and ``NaN <= tau`` is False, so such a row is "far";
``eps`` (e.g. 1e-10) is added inside the logs instead, which keeps every
distance finite. The leader pass depends on the row order, as officially.

Identities are video-level by construction: a centroid is the same object in
every frame, so the cluster ids need no linking over time.

Speed (less arithmetic than the official code, which computes five
``(n, n, c)`` products per window): the self-distance needs one matrix
product (the second is its transpose); the smoothing is computed once per
distinct neighbourhood (rows with the same ``tau``-neighbourhood have the
same smoothed row; a sparse product when the neighbourhoods are sparse);
the leader pass computes distance rows only for the leaders, against the
distinct rows still free, instead of the full matrix. Only rounding differs
from the official arithmetic (sums in another order), so a pair whose
distance is within float32 rounding of ``tau`` (about ``1e-5`` for
thousands of columns) may be decided either way, by the official code too
(its result changes with the BLAS blocking); the cluster ids were identical
in every benchmark and test case (``tools/benchmarks/
bench_bba_clustering.py``).
"""
from typing import Callable, List, Optional, Tuple

import numpy as np
import torch

#: Candidate rows whose distance rows one leader-pass step computes at once.
LEADER_BLOCK = 32
#: Neighbourhood density below which the smoothing uses a sparse product.
SPARSE_DENSITY = 0.02
#: Level-2 passes at most (the official ``num_iter``).
MAX_PASSES = 10000
#: Bytes of window rows kept from level 1 for the assignment instead of
#: reading them again (the first windows that fit).
ROW_CACHE_BYTES = 2**31


def _log(probabilities: torch.Tensor, eps: Optional[float]) -> torch.Tensor:
    return probabilities.log() if eps is None else (probabilities + eps).log()


def symmetric_kl(x: torch.Tensor,
                 y: torch.Tensor,
                 eps: Optional[float] = None) -> torch.Tensor:
    """Symmetric KL divergence of every row of ``x`` with every row of ``y``.

    Args:
        x: ``(n, c)`` distributions.
        y: ``(m, c)`` distributions.
        eps: Added inside the logarithms; None (official) uses them as they
            are, so an exact zero gives NaN.

    Returns:
        Tensor: ``(n, m)``, ``KL(x_i || y_j) + KL(y_j || x_i)``.
    """
    log_x, log_y = _log(x, eps), _log(y, eps)
    return _kl_from_logs(x, log_x, y, log_y)


def _kl_from_logs(x, log_x, y, log_y) -> torch.Tensor:
    """The official arithmetic: cross-entropies minus entropies."""
    entropies = -(x * log_x).sum(-1)[:, None] - (y * log_y).sum(-1)[None]
    cross = -(x @ log_y.T) - (log_x @ y.T)
    return cross - entropies


def _self_kl(x: torch.Tensor, log_x: torch.Tensor) -> torch.Tensor:
    """``symmetric_kl(x, x)`` with one matrix product instead of two."""
    neg_entropy = (x * log_x).sum(-1)
    product = x @ log_x.T
    entropies = -neg_entropy[:, None] - neg_entropy[None]
    return (-product - product.T) - entropies


def distinct_neighbourhoods(rows: torch.Tensor, tau: float,
                            eps: Optional[float] = None
                            ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``tau``-neighbourhoods of the rows, each distinct one once.

    Args:
        rows: ``(n, c)`` distributions.
        tau: Neighbours are within symmetric KL ``<= tau`` (NaN: not).
        eps: See :func:`symmetric_kl`.

    Returns:
        tuple: ``neighbours`` ``(u, n)`` bool, the distinct rows of the
        ``(n, n)`` neighbourhood matrix (in no particular order), and
        ``inverse`` ``(n,)`` int64: row ``i``'s neighbourhood is
        ``neighbours[inverse[i]]``.
    """
    near = (_self_kl(rows, _log(rows, eps)) <= tau).cpu().numpy()
    packed = np.packbits(near, axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True,
                                  return_inverse=True)
    neighbours = torch.from_numpy(near[first]).to(rows.device)
    return neighbours, torch.from_numpy(inverse.reshape(-1)).to(rows.device)


def smooth_distinct(rows: torch.Tensor, tau: float,
                    eps: Optional[float] = None
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Level-1 step (a), computed once per distinct neighbourhood.

    Rows with the same ``tau``-neighbourhood have the same smoothed row, so
    the ``(u, n) x (n, c)`` product replaces the official ``(n, n) x (n,
    c)`` one (``u`` is often much smaller than ``n``: all patches of a
    clean object share one neighbourhood).

    Args:
        rows: ``(n, c)`` distributions.
        tau: Neighbours are within symmetric KL ``<= tau``.
        eps: See :func:`symmetric_kl`.

    Returns:
        tuple: ``smoothed`` ``(u, c)`` distinct smoothed rows and
        ``inverse`` ``(n,)`` int64: row ``i`` smooths to
        ``smoothed[inverse[i]]``.
    """
    neighbours, inverse = distinct_neighbourhoods(rows, tau, eps)
    neighbours = neighbours.to(rows.dtype)
    density = float(neighbours.mean()) if neighbours.numel() else 1.0
    if density < SPARSE_DENSITY:
        summed = torch.sparse.mm(neighbours.to_sparse(), rows)
    else:
        summed = neighbours @ rows
    del neighbours
    return summed.div_(summed.sum(dim=1, keepdim=True)), inverse


def smooth_by_neighbourhood(rows: torch.Tensor, tau: float,
                            eps: Optional[float] = None) -> torch.Tensor:
    """Level-1 step (a): each row -> L1-normalised sum of its neighbours.

    Args:
        rows: ``(n, c)`` distributions.
        tau: Neighbours are within symmetric KL ``<= tau``.
        eps: See :func:`symmetric_kl`.

    Returns:
        Tensor: ``(n, c)`` smoothed rows.
    """
    smoothed, inverse = smooth_distinct(rows, tau, eps)
    return smoothed[inverse]


def leader_pass(rows: torch.Tensor,
                tau: float,
                eps: Optional[float] = None,
                block: int = LEADER_BLOCK,
                inverse: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Greedy leader grouping of ``rows`` (or ``rows[inverse]``) in index
    order.

    Every row not yet taken, in order, takes all rows not yet taken whose
    symmetric KL to it is ``<= tau`` (itself included unless its distance
    to itself is NaN); the plain mean of the group is a centroid (NaN for
    an empty group, as officially).

    Only the leaders' distance rows are computed, over the distinct rows
    still free: the next free rows are taken as candidates in blocks (one
    product per block; the block doubles, up to ``block``, while every
    candidate turns out a leader, and halves when one was taken by an
    earlier leader of its block), and the distinct rows are compacted once
    half of them are taken.

    Args:
        rows: ``(u, c)`` distributions.
        tau: Distance threshold.
        eps: See :func:`symmetric_kl`.
        block: Most candidate rows per distance product.
        inverse: ``(n,)`` int64 or None: group the ``n`` rows
            ``rows[inverse]`` (each distinct row's distances computed once;
            the same result as passing ``rows[inverse]``).

    Returns:
        Tensor: ``(K, c)`` centroids in order of their leaders.
    """
    distinct = len(rows)
    if inverse is None:
        inverse = torch.arange(distinct, device=rows.device)
    expand = inverse.cpu().numpy()
    log_rows = _log(rows, eps)
    neg_entropy = (rows * log_rows).sum(-1)
    free = np.ones(len(expand), dtype=bool)
    working = np.arange(distinct)  # distinct rows in the products
    work_rows, work_logs, work_neg = rows, log_rows, neg_entropy
    centroids: List[torch.Tensor] = []
    position, size = 0, 1
    while position < len(expand):
        candidates = np.flatnonzero(free[position:])[:size] + position
        if not len(candidates):
            break
        free_distinct = np.zeros(distinct, dtype=bool)
        free_distinct[expand[free]] = True
        if 2 * int(free_distinct.sum()) <= len(working):
            working = np.flatnonzero(free_distinct)
            index = torch.as_tensor(working, device=rows.device)
            work_rows, work_logs = rows[index], log_rows[index]
            work_neg = neg_entropy[index]
        sources, source_of = np.unique(expand[candidates],
                                       return_inverse=True)
        index = torch.as_tensor(sources, device=rows.device)
        cand, log_cand = rows[index], log_rows[index]
        distance = (-(cand @ work_logs.T) - (log_cand @ work_rows.T)) - (
            -neg_entropy[index][:, None] - work_neg[None])
        near = (distance <= tau).cpu().numpy()
        leaders = 0
        for offset, candidate in enumerate(candidates):
            if not free[candidate]:
                continue
            leaders += 1
            near_distinct = np.zeros(distinct, dtype=bool)
            near_distinct[working[near[source_of[offset]]]] = True
            members = np.flatnonzero(near_distinct[expand] & free)
            centroids.append(rows[torch.as_tensor(
                expand[members], device=rows.device)].mean(dim=0))
            free[members] = False
        position = int(candidates[-1]) + 1
        size = min(2 * size, block) if leaders == len(candidates) else max(
            1, size // 2)
    if not centroids:
        return rows.new_zeros((0, rows.shape[1]))
    return torch.stack(centroids)


def merge_centroids(centroids: torch.Tensor,
                    tau: float,
                    eps: Optional[float] = None,
                    max_passes: int = MAX_PASSES) -> torch.Tensor:
    """Level 2: leader passes until the count stops falling.

    Returns:
        Tensor: ``(K', c)`` merged centroids.
    """
    for _ in range(max_passes):
        merged = leader_pass(centroids, tau, eps)
        if len(merged) == len(centroids):
            return merged
        centroids = merged
    return centroids


def nearest_centroid(centroids: torch.Tensor,
                     rows: torch.Tensor,
                     eps: Optional[float] = None) -> torch.Tensor:
    """Assignment: ``argmin_k kl(centroid_k, row)`` of every row.

    Returns:
        Tensor: ``(n,)`` int64 centroid indices.
    """
    return symmetric_kl(centroids, rows, eps).argmin(dim=0)


def first_appearance_ids(labels: torch.Tensor) -> torch.Tensor:
    """Renumber labels ``0..K-1`` in order of first appearance.

    Returns:
        Tensor: int64 labels of the same shape.
    """
    unique, inverse = torch.unique(labels, return_inverse=True)
    first = torch.full((len(unique), ), labels.numel(), dtype=torch.long,
                       device=labels.device)
    positions = torch.arange(labels.numel(), device=labels.device)
    first.scatter_reduce_(0, inverse.flatten(), positions, reduce='amin')
    rank = torch.empty_like(first)
    rank[torch.argsort(first)] = torch.arange(len(first), device=first.device)
    return rank[inverse]


def cluster_attention_windows(read_rows: Callable[[int, int], torch.Tensor],
                              num_frames: int,
                              tau: float = 1.0,
                              window: int = 3,
                              eps: Optional[float] = None,
                              max_passes: int = MAX_PASSES,
                              cache_bytes: int = ROW_CACHE_BYTES
                              ) -> torch.Tensor:
    """The two-level clustering, reading the rows one window at a time.

    Memory holds one window's rows (and the centroids), not the whole
    ``(T * N, M)`` matrix: ``read_rows`` is called twice per window (level 1
    and the assignment), as in the official memory-efficient path -- except
    for the first windows whose rows together take at most
    ``cache_bytes``, which are kept from level 1 (same values, computed
    once).

    Args:
        read_rows: ``(start, stop)`` frame range -> its ``((stop - start) *
            N, M)`` distribution rows, frame-major.
        num_frames: ``T``.
        tau: Distance threshold (official ``--tau``, 1.0).
        window: Frames per level-1 window (official ``ts``, 3).
        eps: See :func:`symmetric_kl` (None: official, no epsilon).
        max_passes: Most level-2 passes.
        cache_bytes: Most bytes of rows kept for the assignment (2 GiB:
            a 100-frame video at 160x240 is read once; at 320x480 with ten
            key frames, the first two windows).

    Returns:
        Tensor: ``(T * N,)`` int64 cluster ids numbered ``0..K-1`` in order
        of first appearance.
    """
    if num_frames < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}')
    if window < 1:
        raise ValueError(f'window must be >= 1, got {window}')
    windows = [(start, min(start + window, num_frames))
               for start in range(0, num_frames, window)]
    level_one, cached, cached_bytes = [], [], 0
    for start, stop in windows:
        rows = read_rows(start, stop)
        cached_bytes += rows.numel() * rows.element_size()
        if cached_bytes <= cache_bytes:
            cached.append(rows)
        smoothed, inverse = smooth_distinct(rows, tau, eps)
        del rows
        level_one.append(leader_pass(smoothed, tau, eps, inverse=inverse))
        del smoothed
    centroids = merge_centroids(torch.cat(level_one), tau, eps, max_passes)
    labels = [
        nearest_centroid(
            centroids,
            cached[index] if index < len(cached) else read_rows(start, stop),
            eps) for index, (start, stop) in enumerate(windows)
    ]
    return first_appearance_ids(torch.cat(labels))


def kl_hierarchical_clustering(attention: torch.Tensor,
                               num_frames: int,
                               tau: float = 1.0,
                               window: int = 3,
                               eps: Optional[float] = None,
                               normalize_rows: bool = True,
                               max_passes: int = MAX_PASSES) -> torch.Tensor:
    """Cluster a whole video's attention rows (official
    ``hierarchical_cluster``).

    Args:
        attention: ``(T * N, M)`` distributions, frame-major (every patch
            of every frame over the ``M`` key-frame patches).
        num_frames: ``T``; ``T * N`` must be the number of rows.
        tau: Distance threshold (official 1.0).
        window: Frames per level-1 window (official 3).
        eps: None (official: no epsilon, NaN for exact zeros) or a small
            value added inside the logs (NaN-free).
        normalize_rows: Divide each row by its sum first, as the official
            full-matrix path does (a no-op up to rounding for softmax rows;
            its memory-efficient path skips it).
        max_passes: Most level-2 passes.

    Returns:
        Tensor: ``(T * N,)`` int64 cluster ids numbered ``0..K-1`` in order
        of first appearance.
    """
    if attention.dim() != 2:
        raise ValueError('attention must be (T * N, M), got shape '
                         f'{tuple(attention.shape)}')
    if num_frames < 1 or len(attention) % num_frames:
        raise ValueError(f'attention has {len(attention)} rows, not a '
                         f'multiple of num_frames={num_frames}')
    if normalize_rows:
        attention = attention / attention.sum(dim=-1, keepdim=True)
    patches = len(attention) // num_frames
    return cluster_attention_windows(
        lambda start, stop: attention[start * patches:stop * patches],
        num_frames, tau, window, eps, max_passes)
