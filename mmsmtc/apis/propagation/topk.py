"""Exact top-k with a fixed tie rule: equal logits go to the lowest index.

``torch.topk`` leaves the choice among equal values to its selection
algorithm (it differs between sizes, devices and versions), so the dense
protocol is only defined up to that choice. mmsmtc fixes it: among equal
logits the candidate that comes first in the official source order (frame 0,
then the context frames oldest first, cells row-major) wins. Splitting the
candidates into groups, taking each group's top-k under this rule and
merging them under the same rule gives exactly the top-k of the whole set.
"""
from typing import Optional, Tuple

import torch


def topk_lowest_index(
        values: torch.Tensor,
        k: int,
        indifferent_value: Optional[float] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Row-wise top-k, ties at the k-th value resolved to the lowest index.

    Args:
        values: ``(N, L)`` finite logits.
        k: How many to keep; ``min(k, L)`` are returned.
        indifferent_value: A value whose ties need no resolution (the
            excluded-cell logit: such entries get a softmax weight of
            exactly 0, so which of them is kept cannot change a result).

    Returns:
        tuple[Tensor, Tensor]: ``(N, k')`` values and int64 column indices,
        in no particular order.
    """
    num_rows, length = values.shape
    k = min(k, length)
    if k == length:
        columns = torch.arange(length, device=values.device)
        return values, columns.expand(num_rows, length)
    top_values, top_columns = values.topk(k + 1, dim=1)
    kth_value = top_values[:, k - 1]
    ambiguous = kth_value == top_values[:, k]
    if indifferent_value is not None:
        ambiguous &= kth_value != indifferent_value
    top_values, top_columns = top_values[:, :k], top_columns[:, :k]
    if bool(ambiguous.any()):
        rows = ambiguous.nonzero().squeeze(1)
        resolved = _lowest_index_columns(values[rows], kth_value[rows], k)
        top_columns = top_columns.index_put((rows, ), resolved)
        top_values = top_values.index_put(
            (rows, ), values[rows].gather(1, resolved))
    return top_values, top_columns


def _lowest_index_columns(values: torch.Tensor, kth_value: torch.Tensor,
                          k: int) -> torch.Tensor:
    """Columns of the top-k of each row, ties at ``kth_value`` to the left.

    Args:
        values: ``(R, L)`` rows whose k-th and (k+1)-th values are equal.
        kth_value: ``(R,)`` their k-th largest value.
        k: How many to keep.

    Returns:
        torch.Tensor: ``(R, k)`` int64 columns, ascending.
    """
    threshold = kth_value[:, None]
    above = values > threshold
    tied = values == threshold
    still_needed = k - above.sum(1, keepdim=True)
    chosen = above | (tied & (tied.cumsum(1) <= still_needed))
    return chosen.nonzero()[:, 1].view(-1, k)


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
