"""Exact top-k selection: screen in the working precision, decide in float64.

**Why.** In float32 the logits of nearly identical features (flat image
regions) differ from the mathematically exact ones in the last bits, and by
amounts that depend on the shape of the matrix product (the summation
order), so near-tied candidates at the k-th place flip between any two
float32 implementations. mmsmtc's result is the exact one instead: the top-k
of the float64 logits of the (given) features, among equal float64 logits
the candidate that comes first in the official source order (frame 0, then
the context frames oldest first, cells row-major).

**Bound.** With ``u`` the unit roundoff of the working precision (``2**-24``
for float32) and ``C`` channels, a screened logit ``s`` (target features
normalised in float64 and rounded, ``dot(target, raw source)`` in any
summation order, times the source's rounded ``1 / (norm * temperature)``)
differs from the exact ``cos / temperature`` by at most
``(gamma_C + 4u) / temperature`` with ``gamma_C = C u / (1 - C u)``
(standard dot-product error, Cauchy-Schwarz on unit vectors, three
roundings); :func:`logit_error_bound` returns twice that (margin for the
float64 reference's own rounding and ``1 + u`` products).

**Selection.** Let ``G`` be the k-th largest screened logit of a target and
``delta`` the bound. The k candidates with screened logit ``>= G`` have exact
logits ``>= G - delta``, so the exact k-th value is ``>= G - delta``; every
candidate whose exact logit is ``>=`` that value therefore has a screened
logit ``>= G - 2 delta``. Rescoring every candidate above that threshold in
float64 and taking the top-k there (ties to the first source) is exact.
"""
from typing import Tuple

import torch


def logit_error_bound(channels: int, dtype: torch.dtype,
                      temperature: float) -> float:
    """Largest difference between a screened and an exact logit (see top).

    Args:
        channels: Feature channels ``C`` (the dot-product length).
        dtype: The floating type the logits are screened in.
        temperature: The protocol temperature.

    Returns:
        float: ``2 * (gamma_C + 4u) / temperature``.
    """
    unit_roundoff = torch.finfo(dtype).eps / 2
    accumulated = channels * unit_roundoff
    if accumulated >= 0.5:
        raise ValueError(f'{channels} channels are too many to bound the '
                         f'rounding error of {dtype} dot products')
    gamma = accumulated / (1 - accumulated)
    return 2 * (gamma + 4 * unit_roundoff) / temperature


def merge_topk(values: torch.Tensor, order_keys: torch.Tensor,
               k: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-k of pooled candidates, ties to the smallest ``order_keys``.

    Args:
        values: ``(N, M)`` candidate logits.
        order_keys: ``(N, M)`` int64 positions of the candidates in the
            official source order (unique within a row).
        k: How many to keep; ``min(k, M)`` are returned.

    Returns:
        tuple[Tensor, Tensor]: ``(N, k')`` values, descending, and the
        matching ``order_keys``.
    """
    by_position = order_keys.argsort(dim=1)
    values = values.gather(1, by_position)
    order_keys = order_keys.gather(1, by_position)
    sorted_values, ranking = values.sort(dim=1, descending=True, stable=True)
    k = min(k, values.shape[1])
    return sorted_values[:, :k], order_keys.gather(1, ranking[:, :k])


def pad_ragged_rows(rows: torch.Tensor, values: torch.Tensor,
                    order_keys: torch.Tensor, num_rows: int
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Pack a variable number of candidates per row into padded matrices.

    Args:
        rows: ``(P,)`` int64 row of each candidate.
        values: ``(P,)`` their logits.
        order_keys: ``(P,)`` their int64 source-order keys.
        num_rows: ``N``, the number of rows.

    Returns:
        tuple[Tensor, Tensor]: ``(N, M)`` values (``-inf`` padding, which
        gets a softmax weight of 0) and keys (0 padding), ``M`` the largest
        count of a row (at least 1).
    """
    counts = torch.bincount(rows, minlength=num_rows)
    width = max(int(counts.max()) if len(rows) else 0, 1)
    order = rows.argsort(stable=True)
    rows = rows[order]
    starts = counts.cumsum(0) - counts
    columns = torch.arange(len(rows), device=rows.device) - starts[rows]
    padded_values = values.new_full((num_rows, width), float('-inf'))
    padded_keys = order_keys.new_zeros((num_rows, width))
    padded_values[rows, columns] = values[order]
    padded_keys[rows, columns] = order_keys[order]
    return padded_values, padded_keys


def largest(values: torch.Tensor, r: int,
            block: int = 16) -> Tuple[torch.Tensor, torch.Tensor]:
    """Row-wise ``r`` largest values (any of equal ones), descending.

    ``torch.topk`` on the CPU costs about as much per value as a matrix
    product; this first takes the maximum of each of ``b = m // block``
    groups of ``block`` values, group ``j`` holding columns ``j, j + b,
    j + 2b, ...`` (so the maxima are elementwise maxima of ``block``
    contiguous slices: one vectorised pass). The ``r``-th largest group
    maximum ``tau`` is reached by ``r`` values of distinct groups, so every
    one of the ``r`` largest values is ``>= tau`` and lies in a group whose
    maximum is ``>= tau``; only those groups go through ``torch.topk``.

    Args:
        values: ``(n, m)`` rows, last dimension contiguous, no NaN.
        r: How many to keep; ``min(r, m)`` are returned.
        block: Values per group.

    Returns:
        tuple[Tensor, Tensor]: ``(n, r')`` values, descending, and their
        int64 columns.
    """
    num_rows, length = values.shape
    r = min(r, length)
    num_groups = length // block
    if num_groups <= 4 * r or values.stride(1) != 1:
        return values.topk(r, dim=1)
    grouped = num_groups * block
    maxima = values[:, :grouped].unflatten(1, (block, num_groups)).amax(1)
    tail = values[:, grouped:]
    tau = torch.cat([maxima, tail], 1).topk(r, dim=1).values[:, -1:]
    chosen = maxima >= tau
    counts = chosen.sum(1)
    width = int(counts.max())
    rows, groups = chosen.nonzero().unbind(1)
    slots = torch.arange(len(rows), device=rows.device) - (
        counts.cumsum(0) - counts)[rows]
    group_ids = torch.zeros(
        num_rows, width, dtype=torch.long, device=values.device)
    group_ids[rows, slots] = groups
    valid = torch.arange(width, device=values.device) < counts[:, None]
    offsets = torch.arange(block, device=values.device) * num_groups
    columns = (group_ids[..., None] + offsets).flatten(1)
    candidates = values.gather(1, columns).view(num_rows, width, block)
    candidates.masked_fill_(~valid[..., None], float('-inf'))
    candidates = torch.cat([candidates.flatten(1), tail], 1)
    top_values, picked = candidates.topk(r, dim=1)
    in_groups = picked < width * block
    group_columns = columns.gather(1, picked.clamp_max(width * block - 1))
    tail_columns = picked - width * block + grouped
    return top_values, torch.where(in_groups, group_columns, tail_columns)
