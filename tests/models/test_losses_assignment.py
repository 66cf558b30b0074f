"""The batched permutation solver against scipy and the official indices."""
import inspect
import itertools

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from mmsmtc.models.losses import assignment
from mmsmtc.models.losses.assignment import (enumerate_assignment,
                                             linear_assignment,
                                             official_match_indices,
                                             scipy_assignment)


def objective(cost, columns):
    """Totals of ``(N, P, P)`` costs under ``(N, P)`` assignments."""
    chosen = np.take_along_axis(
        cost.astype(np.float64), columns[:, :, None], axis=-1)
    return chosen[:, :, 0].sum(-1)


def test_three_by_three_where_greedy_is_not_optimal():
    # Greedy on the smallest entry takes (1, 1) = 0, then (2, 2) = 2, then
    # (0, 0) = 4: total 6. The optimum 1 + 2 + 2 = 5 gives up the zero.
    cost = torch.tensor([[[4., 1., 3.], [2., 0., 5.], [3., 2., 2.]]])
    assert enumerate_assignment(cost).tolist() == [[1, 0, 2]]
    assert linear_sum_assignment(cost[0].numpy())[1].tolist() == [1, 0, 2]


@pytest.mark.parametrize('size', [2, 3, 4])
def test_equals_scipy_on_random_problems(size):
    generator = torch.Generator().manual_seed(size)
    cost = torch.rand(3000, size, size, generator=generator)
    columns = enumerate_assignment(cost).numpy()
    assert columns.shape == (3000, size)
    # Every answer is a permutation.
    assert (np.sort(columns, -1) == np.arange(size)).all()
    scipy_columns = np.stack(
        [linear_sum_assignment(matrix)[1] for matrix in cost.numpy()])
    np.testing.assert_allclose(
        objective(cost.numpy(), columns),
        objective(cost.numpy(), scipy_columns),
        rtol=0,
        atol=1e-12)
    # Where the optimum is unique the assignments are identical.
    permutations = np.array(list(itertools.permutations(range(size))))
    totals = cost.double().numpy()[:, np.arange(size),
                                   permutations].sum(-1)
    ordered = np.sort(totals, -1)
    unique = ordered[:, 1] - ordered[:, 0] > 1e-9
    assert unique.mean() > 0.99
    assert (columns[unique] == scipy_columns[unique]).all()


def test_ties_pick_the_first_permutation_and_stay_optimal():
    constant = torch.ones(1, 4, 4)
    assert enumerate_assignment(constant).tolist() == [[0, 1, 2, 3]]
    assert linear_sum_assignment(constant[0].numpy())[1].tolist() == [
        0, 1, 2, 3
    ]
    # Integer costs with many exact ties: the optimum value always agrees.
    generator = torch.Generator().manual_seed(0)
    cost = torch.randint(0, 3, (2000, 4, 4), generator=generator).float()
    columns = enumerate_assignment(cost).numpy()
    scipy_columns = np.stack(
        [linear_sum_assignment(matrix)[1] for matrix in cost.numpy()])
    np.testing.assert_array_equal(
        objective(cost.numpy(), columns),
        objective(cost.numpy(), scipy_columns))


def test_scipy_fallback_above_the_threshold():
    generator = torch.Generator().manual_seed(3)
    cost = torch.rand(50, 7, 7, generator=generator)
    expected = np.stack(
        [linear_sum_assignment(matrix)[1] for matrix in cost.numpy()])
    np.testing.assert_array_equal(linear_assignment(cost).numpy(), expected)
    np.testing.assert_array_equal(scipy_assignment(cost).numpy(), expected)
    small = cost[:, :3, :3]
    np.testing.assert_array_equal(
        linear_assignment(small, max_enumerated=2).numpy(),
        enumerate_assignment(small).numpy())


def test_six_by_six_enumeration_equals_scipy():
    generator = torch.Generator().manual_seed(4)
    cost = torch.rand(200, 6, 6, generator=generator)
    expected = np.stack(
        [linear_sum_assignment(matrix)[1] for matrix in cost.numpy()])
    np.testing.assert_array_equal(linear_assignment(cost).numpy(), expected)


def test_rejects_non_square_costs():
    with pytest.raises(ValueError, match=r'cost must have shape \(N, P, P\)'):
        linear_assignment(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r'got \(3, 3\)'):
        linear_assignment(torch.zeros(3, 3))


@pytest.mark.parametrize('size', [2, 3, 4, 5])
def test_official_index_construction(size):
    generator = torch.Generator().manual_seed(size)
    columns = torch.stack(
        [torch.randperm(size, generator=generator) for _ in range(20)])
    indices = official_match_indices(columns)
    for matrix_columns, matrix_indices in zip(columns, indices):
        # The official construction, step by step.
        row = torch.arange(size)
        official = torch.arange(size).unsqueeze(0).repeat(size, 1)
        official[row, matrix_columns] = 0
        official[row, 0] = matrix_columns
        assert torch.equal(matrix_indices, official)
        for p in range(size):
            assert matrix_indices[p, 0] == matrix_columns[p]
            assert sorted(matrix_indices[p, 1:].tolist()) == sorted(
                set(range(size)) - {int(matrix_columns[p])})


def test_device_path_never_reads_values_on_the_host():
    # Meta tensors have no values: any .item(), .cpu(), .numpy() or
    # data-dependent host branch would raise.
    cost = torch.empty(64, 4, 4, device='meta')
    columns = linear_assignment(cost)
    assert columns.device.type == 'meta' and columns.shape == (64, 4)
    indices = official_match_indices(columns)
    assert indices.shape == (64, 4, 4)
    for function in (enumerate_assignment, official_match_indices):
        source = inspect.getsource(function)
        for host_call in ('.cpu(', '.item(', '.numpy(', '.tolist(', 'np.'):
            assert host_call not in source, (function.__name__, host_call)
    assert assignment.MAX_ENUMERATED_SIZE >= 4


@pytest.mark.gpu
def test_no_device_synchronisation_on_cuda():
    cost = torch.rand(512, 4, 4, device='cuda')
    official_match_indices(linear_assignment(cost))  # caches the table
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        official_match_indices(linear_assignment(cost))
    finally:
        torch.cuda.set_sync_debug_mode('default')
