"""Batched exact linear assignment of small square cost matrices.

SMTC matches the ``P`` instances of two frames one-to-one by minimal total
cost. The official code calls ``scipy.optimize.linear_sum_assignment`` once
per matrix on the CPU, which copies the costs to the host and synchronises
the device every training step. For the official ``P = 4`` the
:func:`enumerate_assignment` solver instead scores all ``P!`` permutations
of every matrix at once on the cost's device: no host transfer, no sync, no
Python loop over matrices. It is exact; its memory is
``num_matrices * P!`` totals, so :func:`linear_assignment` switches to the
scipy solver above ``max_enumerated`` (default 6: 720 permutations).

Ties. The permutation totals are summed in float64 (float32 on devices
without float64 support, e.g. MPS), which is exact for float32 costs of
similar magnitude, so permutations whose float32 costs add up to the same
total tie exactly; among tied optima the lexicographically first
permutation of ``itertools.permutations`` order wins (``torch.argmin``
returns the first minimum). scipy breaks such ties by the order of its
shortest-augmenting-path search instead, so on exactly tied optima the two
solvers may return different (equally optimal) assignments. With
real-valued features exact ties arise from duplicated rows or columns
(identical instance embeddings), and the SMTC instance loss is the same
for every one of those tied assignments; the tests check both.
"""
import functools
import itertools
from typing import Tuple

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from .utils import autocast_disabled

#: Largest ``P`` solved by enumerating all ``P!`` permutations.
MAX_ENUMERATED_SIZE = 6


@functools.lru_cache(maxsize=None)
def _permutation_tables(size: int, device: torch.device,
                        dtype: torch.dtype) -> Tuple[Tensor, Tensor]:
    """All permutations of ``range(size)`` and their incidence matrix.

    Built once per ``(size, device, dtype)``, so later calls upload
    nothing.

    Returns:
        tuple[Tensor, Tensor]: ``(K, size)`` int64 permutations in
        ``itertools.permutations`` (lexicographic) order, ``K = size!``;
        ``(size * size, K)`` incidence matrix whose column ``k`` is 1 at the
        flattened entries ``(p, permutation_k[p])`` and 0 elsewhere.
    """
    permutations = torch.tensor(
        list(itertools.permutations(range(size))), dtype=torch.long)
    flat_entries = torch.arange(size) * size + permutations
    incidence = torch.zeros(size * size, permutations.shape[0], dtype=dtype)
    incidence[flat_entries.flatten(),
              torch.arange(permutations.shape[0]).repeat_interleave(size)] = 1
    return permutations.to(device), incidence.to(device)


def _accumulation_dtype(device: torch.device) -> torch.dtype:
    """float64 where the device supports it, else float32."""
    return torch.float32 if device.type == 'mps' else torch.float64


@torch.no_grad()
def enumerate_assignment(cost: Tensor) -> Tensor:
    """Exact minimal-cost assignment by scoring every permutation.

    The totals of all permutations are one matrix product of the flattened
    costs with a 0/1 incidence matrix (autocast disabled). It runs entirely
    on ``cost.device`` without reading values back to the host. See the
    module docstring for the tie-breaking rule.

    Args:
        cost: ``(N, P, P)`` costs; ``cost[n, p, q]`` is the cost of
            assigning row ``p`` to column ``q`` in matrix ``n``.

    Returns:
        Tensor: ``(N, P)`` int64; entry ``[n, p]`` is the column assigned to
        row ``p``.
    """
    dtype = _accumulation_dtype(cost.device)
    permutations, incidence = _permutation_tables(cost.shape[-1], cost.device,
                                                  dtype)
    with autocast_disabled(cost.device):
        totals = cost.flatten(1).to(dtype) @ incidence
    return permutations[totals.argmin(dim=-1)]


@torch.no_grad()
def scipy_assignment(cost: Tensor) -> Tensor:
    """Minimal-cost assignment with ``scipy.optimize.linear_sum_assignment``.

    Copies the costs to the host (a device synchronisation) and solves the
    matrices one by one; used above :data:`MAX_ENUMERATED_SIZE`.

    Args:
        cost: ``(N, P, P)`` costs.

    Returns:
        Tensor: ``(N, P)`` int64 columns assigned to the rows, on
        ``cost.device``.
    """
    host_cost = cost.detach().to('cpu', torch.float64).numpy()
    columns = np.empty(host_cost.shape[:2], dtype=np.int64)
    for index, matrix in enumerate(host_cost):
        columns[index] = linear_sum_assignment(matrix)[1]
    return torch.from_numpy(columns).to(cost.device)


def linear_assignment(cost: Tensor,
                      max_enumerated: int = MAX_ENUMERATED_SIZE) -> Tensor:
    """Minimal-cost one-to-one assignment of a batch of square matrices.

    Args:
        cost: ``(N, P, P)`` costs.
        max_enumerated: Largest ``P`` solved on the device by
            :func:`enumerate_assignment`; larger ``P`` use
            :func:`scipy_assignment`.

    Returns:
        Tensor: ``(N, P)`` int64; entry ``[n, p]`` is the column assigned to
        row ``p``.

    Raises:
        ValueError: If ``cost`` is not a batch of square matrices.
    """
    if cost.dim() != 3 or cost.shape[1] != cost.shape[2]:
        raise ValueError('cost must have shape (N, P, P), got '
                         f'{tuple(cost.shape)}')
    if cost.shape[-1] <= max_enumerated:
        return enumerate_assignment(cost)
    return scipy_assignment(cost)


def official_match_indices(columns: Tensor) -> Tensor:
    """The official SMTC ``matching_cost`` index layout of an assignment.

    Officially, for an assignment ``row -> col`` of ``P`` instances each
    row starts as ``arange(P)``; then ``indice[row, col] = 0`` and
    ``indice[row, 0] = col``. That swaps the entries ``0`` and ``col[p]``
    of row ``p``: position 0 holds the matched column (the positive) and
    positions ``1..P-1`` hold every other column exactly once (the
    negatives), in increasing order except that ``0`` takes the matched
    column's place.

    Args:
        columns: ``(..., P)`` int64 assigned columns.

    Returns:
        Tensor: ``(..., P, P)`` int64 index; ``[..., p, 0]`` is the positive
        of row ``p`` and ``[..., p, 1:]`` its negatives.
    """
    size = columns.shape[-1]
    indices = torch.arange(size, device=columns.device).expand(
        *columns.shape, size).clone()
    indices.scatter_(-1, columns.unsqueeze(-1), 0)
    indices[..., 0] = columns
    return indices
