"""Betrayed by Attention's KL threshold clustering: the spec's hand cases
(shared/methods/betrayed_by_attention.md §7) and an independent, literal
transcription of the official algorithm as the reference."""
import numpy as np
import pytest
import torch

from mmsmtc.models.discovery import (cluster_attention_windows,
                                     kl_hierarchical_clustering, symmetric_kl)
from mmsmtc.models.discovery.kl_clustering import (first_appearance_ids,
                                                   leader_pass,
                                                   smooth_by_neighbourhood,
                                                   smooth_distinct)


def reference_kl(x, y):
    """Two einsums, no epsilon: the official ``kl_distance`` maths."""
    self_entropy = (-(x * x.log()).sum(1)[:, None] -
                    (y * y.log()).sum(1)[None])
    cross = -torch.einsum('nc,mc->nm', x, y.log()) - torch.einsum(
        'mc,nc->nm', y, x.log())
    return cross - self_entropy


def reference_leaders(rows, tau):
    """Full distance matrix, one leader per loop step (official order)."""
    distance = reference_kl(rows, rows)
    free = torch.ones(len(rows), dtype=torch.bool)
    centroids = []
    for i in range(len(rows)):
        if not free[i]:
            continue
        members = (distance[i] <= tau) & free
        centroids.append(rows[members].mean(0))
        free[members] = False
    return torch.stack(centroids)


def reference_clustering(attention, frames, tau=1.0, window=3):
    """The official two-level merging, written out plainly."""
    patches = len(attention) // frames
    level_one = []
    for start in range(0, frames, window):
        rows = attention[start * patches:(start + window) * patches]
        near = (reference_kl(rows, rows) <= tau).float()
        smoothed = near @ rows
        smoothed = smoothed / smoothed.sum(1, keepdim=True)
        level_one.append(reference_leaders(smoothed, tau))
    centroids = torch.cat(level_one)
    while True:
        merged = reference_leaders(centroids, tau)
        if len(merged) == len(centroids):
            break
        centroids = merged
    labels = reference_kl(centroids, attention).argmin(0)
    return first_appearance_ids(labels)


def test_symmetric_kl_hand_values():
    pairs = {((.5, .5), (.9, .1)): 0.878890, ((.5, .5), (.8, .2)): 0.415888,
             ((.8, .2), (.95, .05)): 0.233722,
             ((.5, .5), (.95, .05)): 1.324998}
    for (p, q), expected in pairs.items():
        value = symmetric_kl(torch.tensor([p]), torch.tensor([q]))
        assert float(value) == pytest.approx(expected, abs=1e-5)


def test_symmetric_kl_matches_the_definition_in_float64():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(5, 7, generator=generator, dtype=torch.float64) + 0.01
    y = torch.rand(4, 7, generator=generator, dtype=torch.float64) + 0.01
    x, y = x / x.sum(1, keepdim=True), y / y.sum(1, keepdim=True)
    direct = ((x[:, None] - y[None]) * (x[:, None].log() - y[None].log())
              ).sum(-1)
    assert torch.allclose(symmetric_kl(x, y), direct, atol=1e-12)
    square = symmetric_kl(x, x)
    assert torch.allclose(square, square.T, atol=1e-12)
    assert square.diagonal().abs().max() < 1e-12


def test_zero_entries_nan_officially_and_finite_with_eps():
    rows = torch.tensor([[0.0, 1.0], [0.5, 0.5]])
    assert torch.isnan(symmetric_kl(rows, rows)).any()
    assert torch.isfinite(symmetric_kl(rows, rows, eps=1e-10)).all()


def test_leader_pass_is_order_dependent():
    a, b, c = (.5, .5), (.8, .2), (.95, .05)
    forward = leader_pass(torch.tensor([a, b, c]), tau=1.0)
    backward = leader_pass(torch.tensor([c, b, a]), tau=1.0)
    assert torch.allclose(forward, torch.tensor([[.65, .35], [.95, .05]]))
    assert torch.allclose(backward, torch.tensor([[.875, .125], [.5, .5]]))


def clustered_rows(seed, rows=120, columns=30, groups=4, duplicates=True):
    """Softmax rows around a few centres; with ``duplicates``, some rows
    repeated (as the smoothed rows of one neighbourhood are)."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(groups, columns, generator=generator) * 3
    labels = torch.randint(0, groups, (rows, ), generator=generator)
    logits = centres[labels] + torch.randn(rows, columns,
                                           generator=generator) * 0.8
    attention = logits.softmax(-1)
    if duplicates:
        attention = attention[torch.randint(0, rows // 4, (rows, ),
                                            generator=generator)]
    return attention


@pytest.mark.parametrize('seed', [0, 1])
def test_smoothing_once_per_distinct_neighbourhood(seed):
    rows = clustered_rows(seed, duplicates=False)
    near = (reference_kl(rows, rows) <= 1.0).float()
    expected = near @ rows
    expected = expected / expected.sum(1, keepdim=True)
    smoothed, inverse = smooth_distinct(rows, 1.0)
    assert len(smoothed) < len(rows)  # shared neighbourhoods
    assert torch.allclose(smoothed[inverse], expected, atol=1e-6)
    assert torch.equal(smooth_by_neighbourhood(rows, 1.0), smoothed[inverse])


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('block', [1, 3, 32])
def test_leader_pass_over_distinct_rows_equals_the_expanded_rows(seed, block):
    """The same centroids, bit for bit, as the official loop on the
    expanded rows, whatever the candidate blocks."""
    rows = clustered_rows(seed)
    distinct, inverse = torch.unique(rows, dim=0, return_inverse=True)
    expected = reference_leaders(rows, 1.0)
    assert len(expected) > 2
    assert torch.equal(leader_pass(rows, 1.0, block=block), expected)
    assert torch.equal(
        leader_pass(distinct, 1.0, block=block, inverse=inverse), expected)


def test_leader_pass_with_nan_rows_and_duplicates():
    """A row with an exact zero is NaN-far from everything, itself
    included: each of its copies leads an empty group (a NaN centroid), as
    in the official loop."""
    rows = torch.tensor([[.5, .5], [0., 1.], [.55, .45], [0., 1.], [.9, .1]])
    distinct, inverse = torch.unique(rows, dim=0, return_inverse=True)
    expected = reference_leaders(rows, 1.0)
    assert torch.isnan(expected).any(dim=1).tolist() == [False, True, True]
    for result in (leader_pass(rows, 1.0),
                   leader_pass(distinct, 1.0, inverse=inverse)):
        assert torch.equal(result.isnan(), expected.isnan())
        assert torch.equal(result.nan_to_num(), expected.nan_to_num())


def constructed_case(frames=4):
    """Spec §7.3: two groups of patches over two groups of keys."""
    rng = np.random.default_rng(0)
    row = np.full(6, 0.02)
    first = row.copy()
    first[:3] += 0.88 / 3
    second = first[::-1].copy()
    rows = np.stack([first] * 3 + [second] * 3)
    rows = np.concatenate([rows] * frames) + rng.uniform(
        0, 0.005, size=(6 * frames, 6))
    return torch.from_numpy(rows / rows.sum(1, keepdims=True)).float()


@pytest.mark.parametrize('window', [1, 3, 4])
def test_constructed_case_two_clusters(window):
    ids = kl_hierarchical_clustering(constructed_case(), 4, window=window)
    assert ids.tolist() == [0, 0, 0, 1, 1, 1] * 4
    single = kl_hierarchical_clustering(constructed_case(1), 1)
    assert single.tolist() == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('window', [1, 3])
def test_equals_the_official_algorithm(seed, window):
    """Peaked random rows with structure: several clusters, same ids."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(5, 40, generator=generator) * 3
    groups = torch.randint(0, 5, (8 * 30, ), generator=generator)
    logits = centres[groups] + torch.randn(8 * 30, 40,
                                           generator=generator) * 0.8
    attention = logits.softmax(-1)
    ids = kl_hierarchical_clustering(attention, 8, window=window,
                                     normalize_rows=False)
    expected = reference_clustering(attention, 8, window=window)
    assert int(expected.max()) + 1 > 2
    assert torch.equal(ids, expected)


def test_exact_zeros_behave_as_officially():
    """An exact zero makes a row's distances NaN: it joins nothing in the
    official order, and the eps flag gives finite, NaN-free clusters."""
    attention = constructed_case()
    attention[2] = torch.tensor([0.5, 0.5, 0.0, 0.0, 0.0, 0.0])
    ids = kl_hierarchical_clustering(attention, 4, normalize_rows=False)
    assert torch.equal(ids, reference_clustering(attention, 4))
    with_eps = kl_hierarchical_clustering(attention, 4, eps=1e-10)
    assert with_eps.min() == 0 and len(with_eps) == 24


def test_windowed_reading_equals_whole_matrix():
    attention = constructed_case(7)
    calls = []

    def read(start, stop):
        calls.append((start, stop))
        return attention[start * 6:stop * 6]

    ids = cluster_attention_windows(read, 7, cache_bytes=0)
    assert torch.equal(
        ids, kl_hierarchical_clustering(attention, 7, normalize_rows=False))
    assert calls == [(0, 3), (3, 6), (6, 7)] * 2  # read again to assign
    calls.clear()
    assert torch.equal(cluster_attention_windows(read, 7), ids)
    assert calls == [(0, 3), (3, 6), (6, 7)]  # small enough: kept
    calls.clear()
    window_bytes = 18 * 6 * 4
    assert torch.equal(
        cluster_attention_windows(read, 7, cache_bytes=2 * window_bytes), ids)
    assert calls == [(0, 3), (3, 6), (6, 7), (6, 7)]  # the first two kept


def test_first_appearance_numbering():
    labels = torch.tensor([4, 4, 1, 7, 1, 4])
    assert first_appearance_ids(labels).tolist() == [0, 0, 1, 2, 1, 0]


def test_bad_inputs():
    with pytest.raises(ValueError, match='not a multiple'):
        kl_hierarchical_clustering(torch.rand(7, 3), 2)
    with pytest.raises(ValueError, match=r'\(T \* N, M\)'):
        kl_hierarchical_clustering(torch.rand(2, 3, 3), 2)
    with pytest.raises(ValueError, match='window'):
        kl_hierarchical_clustering(torch.rand(6, 3), 2, window=0)
