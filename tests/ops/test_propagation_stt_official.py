"""Spa-then-Temp / VFS propagation options against the official tracker.

``tests/data/stt_official/golden.npz`` holds what the official
``VanillaTracker.forward_test`` computed in float64 (see that folder's
README.md): the soft labels of every frame at the grid and, for id maps,
the min-max normalised argmax at the image size. mmsmtc's
``propagate_labels(window='square', restrict_first_frame=True,
context='recent')`` must give the same argmax everywhere and probabilities
within 1e-5, and ``first_frame_labels_nearest`` /
``minmax_soft_labels_to_ids`` the same labels and ids.
"""
import sys

import numpy as np
import pytest
import torch

from mmsmtc.apis import (StreamingLabelPropagation, first_frame_labels_nearest,
                         minmax_soft_labels_to_ids, propagate_labels,
                         propagate_labels_dense)
from mmsmtc.ops.propagation.geometry import (context_frame_indices,
                                             radius_reach, within_radius)

GOLDEN_DIR = __import__('pathlib').Path(__file__).resolve().parents[1] / (
    'data/stt_official')
sys.path.insert(0, str(GOLDEN_DIR))
from make_golden import CASES  # noqa: E402

sys.path.remove(str(GOLDEN_DIR))


@pytest.fixture(scope='module')
def golden():
    return np.load(GOLDEN_DIR / 'golden.npz')


def official_settings(cfg):
    """``propagate_labels`` keywords of an official ``test_cfg``."""
    return dict(
        topk=cfg['topk'],
        radius=cfg['neighbor_range'] // 2,
        temperature=cfg['temperature'],
        n_context=cfg['precede_frames'],
        window='square' if cfg['mode'] == 'square' else 'disc',
        restrict_first_frame=cfg['with_first_neighbor'],
        context='recent')


def case_inputs(golden, name):
    feats = torch.from_numpy(golden[f'{name}/feats']).float()
    soft = torch.from_numpy(golden[f'{name}/soft']).double()
    return feats, soft


@pytest.mark.parametrize('name', list(CASES))
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_propagation_equals_the_official_tracker(golden, name, dtype):
    feats, soft = case_inputs(golden, name)
    settings = official_settings(CASES[name]['cfg'])
    out = propagate_labels(
        feats.to(dtype), soft[0].to(dtype), dtype=dtype, tile_size=5,
        **settings).double()
    assert out.shape == soft.shape
    assert torch.equal(out.argmax(1), soft.argmax(1))
    assert (out - soft).abs().max().item() < 1e-5


@pytest.mark.parametrize('name', list(CASES))
def test_dense_reference_equals_the_official_tracker(golden, name):
    feats, soft = case_inputs(golden, name)
    out = propagate_labels_dense(
        feats.double(), soft[0], dtype=torch.float64, chunk_size=4096,
        **official_settings(CASES[name]['cfg']))
    assert (out - soft).abs().max().item() < 1e-5


@pytest.mark.parametrize(
    'name', [name for name in CASES if CASES[name]['labels'] == 'mask'])
def test_mask_labels_and_read_out_equal_the_official_tracker(golden, name):
    mask = golden[f'{name}/mask']
    feats, soft = case_inputs(golden, name)
    labels, values = first_frame_labels_nearest(mask, feats.shape[-2:])
    assert torch.equal(labels.double(), soft[0])
    assert values.tolist() == list(range(len(labels)))
    out = propagate_labels(feats, labels,
                           **official_settings(CASES[name]['cfg']))
    pred = golden[f'{name}/pred']
    for frame in range(1, len(out)):
        ids = minmax_soft_labels_to_ids(out[frame], values, mask.shape)
        np.testing.assert_array_equal(ids, pred[frame])


def test_recent_context_uses_real_frames_and_repeats_frame_zero():
    assert context_frame_indices(1, 3, 'recent') == [0]
    assert context_frame_indices(3, 3, 'recent') == [0, 1, 2]
    assert context_frame_indices(5, 3, 'recent') == [2, 3, 4]
    assert context_frame_indices(2, 3, 'pad') == [0, 0, 1]


def test_square_window_is_chebyshev_within_the_radius():
    rows, cols = torch.meshgrid(
        torch.arange(7), torch.arange(7), indexing='ij')
    rows, cols = rows.reshape(-1), cols.reshape(-1)
    centre = torch.tensor([3])
    inside = within_radius(centre, centre, rows, cols, 2, 'square')
    assert inside.sum().item() == 25
    assert inside.view(7, 7)[1:6, 1:6].all()
    assert radius_reach(2, 'square') == 2
    assert radius_reach(2.5, 'square') == 2
    disc = within_radius(centre, centre, rows, cols, 2, 'disc')
    assert disc.sum().item() == 9  # |d| < 2: the 3 x 3 block


def test_restricting_frame_zero_changes_the_result():
    generator = torch.Generator().manual_seed(3)
    feats = torch.randn(4, 8, 9, 9, generator=generator)
    labels = torch.rand(3, 9, 9, generator=generator)
    settings = dict(topk=5, radius=1, temperature=0.07, n_context=2,
                    window='square', context='recent')
    free = propagate_labels(feats, labels, **settings)
    windowed = propagate_labels(
        feats, labels, restrict_first_frame=True, **settings)
    assert not torch.allclose(free, windowed)


def test_bad_option_values_name_the_option():
    feats = torch.randn(3, 4, 5, 5)
    labels = torch.rand(2, 5, 5)
    settings = dict(topk=3, radius=2, temperature=0.1, n_context=2)
    with pytest.raises(ValueError, match='window'):
        propagate_labels(feats, labels, window='circle', **settings)
    with pytest.raises(ValueError, match='context'):
        propagate_labels(feats, labels, context='last', **settings)
    with pytest.raises(ValueError, match='restrict_first_frame'):
        StreamingLabelPropagation(
            feats[0], labels, restrict_first_frame='yes', **settings)


def test_nearest_labels_drop_a_vanished_largest_id_and_refuse_bad_maps():
    annotation = np.zeros((16, 16), np.uint8)
    annotation[4:12, 4:12] = 1
    annotation[0, 15] = 3  # one pixel: gone on a 4 x 4 grid
    labels, values = first_frame_labels_nearest(annotation, (4, 4))
    assert values.tolist() == [0, 1]
    assert labels.shape == (2, 4, 4)
    with pytest.raises(ValueError, match='0..255'):
        first_frame_labels_nearest(annotation.astype(int) + 300, (4, 4))
    with pytest.raises(ValueError, match='no object'):
        first_frame_labels_nearest(np.zeros((8, 8), np.uint8), (2, 2))


def test_minmax_read_out_by_hand():
    # channel 1 is weak everywhere but normalised to [0, 1] it wins where it
    # peaks; without normalisation channel 0 would win everywhere
    soft = torch.tensor([[[0.9, 0.8]], [[0.0, 0.1]]])
    ids = minmax_soft_labels_to_ids(soft, [0, 5], (1, 2))
    assert ids.tolist() == [[0, 5]]
    with pytest.raises(ValueError, match='len\\(values\\)'):
        minmax_soft_labels_to_ids(soft, [0], (1, 2))


def test_fewer_window_cells_than_topk_get_weight_zero_like_the_dense():
    # radius 1 at a corner: 4 cells per source frame, 8 at frame 1 < topk;
    # the official top-k then takes -inf logits, whose softmax weight is 0
    generator = torch.Generator().manual_seed(5)
    feats = torch.randn(5, 8, 6, 7, generator=generator)
    labels = torch.rand(3, 6, 7, generator=generator)
    settings = dict(topk=12, radius=1, temperature=0.07, n_context=2,
                    window='square', restrict_first_frame=True,
                    context='recent')
    dense = propagate_labels_dense(feats.double(), labels.double(),
                                   dtype=torch.float64, tie_break='first',
                                   **settings)
    out = propagate_labels(feats, labels, **settings)
    assert not torch.isnan(dense).any()
    assert (out.double() - dense).abs().max().item() < 1e-6
