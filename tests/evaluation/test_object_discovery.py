"""Tests of video FG-ARI and mBO (functional and ObjectDiscoveryMetric)."""
import itertools
from unittest import mock

import numpy as np
import pytest
from mmengine.logging import MMLogger

from mmsmtc.evaluation.functional import (adjusted_rand_index,
                                          contingency_table, video_ari,
                                          video_mbo)
from mmsmtc.evaluation.metrics import ObjectDiscoveryMetric
from mmsmtc.registry import METRICS
from mmsmtc.structures.video_data_sample import VideoDataSample
from mmsmtc.utils import read_indexed_png


def _pair_counting_ari(gt_ids, pred_ids):
    """ARI straight from its definition over all unordered point pairs."""
    together_both = together_gt = together_pred = num_pairs = 0
    for i, j in itertools.combinations(range(len(gt_ids)), 2):
        same_gt, same_pred = gt_ids[i] == gt_ids[j], pred_ids[i] == pred_ids[j]
        together_both += same_gt and same_pred
        together_gt += same_gt
        together_pred += same_pred
        num_pairs += 1
    expected = together_gt * together_pred / max(num_pairs, 1)
    maximum = (together_gt + together_pred) / 2
    if maximum == expected:
        return 1.0
    return (together_both - expected) / (maximum - expected)


def _brute_force_mbo(gt, pred, ignore_background=True, void_id=255):
    kept = gt != void_id
    objects = [
        g for g in np.unique(gt[kept]) if g > 0 or not ignore_background
    ]
    if not objects:
        return None
    best = []
    for obj in objects:
        gt_mask = (gt == obj) & kept
        ious = [
            np.sum(gt_mask & (pred == p) & kept) /
            np.sum((gt_mask | (pred == p)) & kept)
            for p in np.unique(pred[kept])
        ]
        best.append(max(ious))
    return float(np.mean(best))


def test_contingency_table():
    table = contingency_table(np.array([0, 0, 3, 3, 3]),
                              np.array([7, 2, 2, 2, 7]))
    # Rows: gt 0, 3; columns: pred 2, 7.
    np.testing.assert_array_equal(table, [[1, 1], [2, 1]])


def test_ari_hand_cases():
    # gt {0,0,1,1} vs pred {0,0,0,1}: table [[2,0],[1,1]]. Index sum n(n-1)
    # = 2; rows 2,2 -> 4; columns 3,1 -> 6; expected 4*6/12 = 2; max 5.
    # ARI = (2 - 2) / (5 - 2) = 0.
    assert adjusted_rand_index(np.array([[2, 0], [1, 1]])) == 0.0
    # gt {0,0,0,1,1,1} vs pred {0,0,1,1,2,2}: index 4, rows 12, columns 6,
    # expected 12*6/30 = 2.4, max 9 -> 1.6 / 6.6 = 8/33.
    assert adjusted_rand_index(np.array([[2, 1, 0], [0, 1, 2]])) == \
        pytest.approx(8 / 33)
    # Zero denominators: one cluster on both sides, or all singletons.
    assert adjusted_rand_index(np.array([[5]])) == 1.0
    assert adjusted_rand_index(np.eye(4)) == 1.0
    assert adjusted_rand_index(np.array([[1]])) == 1.0


def test_ari_matches_pair_counting_and_is_permutation_invariant():
    rng = np.random.default_rng(0)
    for _ in range(40):
        size = int(rng.integers(1, 14))
        gt_ids = rng.integers(0, rng.integers(1, 4), size)
        pred_ids = rng.integers(0, rng.integers(1, 5), size)
        ari = adjusted_rand_index(contingency_table(gt_ids, pred_ids))
        assert ari == pytest.approx(_pair_counting_ari(gt_ids, pred_ids),
                                    abs=1e-12)
        relabel_gt = rng.permutation(10)[gt_ids]
        relabel_pred = rng.permutation(10)[pred_ids] + 100
        assert adjusted_rand_index(contingency_table(
            relabel_gt, relabel_pred)) == pytest.approx(ari, abs=1e-12)
        assert adjusted_rand_index(contingency_table(
            pred_ids, gt_ids)) == pytest.approx(ari, abs=1e-12)


def test_video_ari_ignores_background_and_void():
    gt = np.array([[[0, 1, 1, 2, 255]]], dtype=np.uint8)
    # Background and void pixels may hold any prediction.
    pred = np.array([[[9, 4, 4, 5, 4]]], dtype=np.uint8)
    assert video_ari(gt, pred) == 1.0
    # With background as a cluster, pixel 0 (gt 0, pred 9) is still a
    # perfect match; merging it into object 1's prediction is not.
    assert video_ari(gt, pred, ignore_background=False) == 1.0
    pred_merged = np.array([[[4, 4, 4, 5, 4]]], dtype=np.uint8)
    assert video_ari(gt, pred_merged) == 1.0
    assert video_ari(gt, pred_merged, ignore_background=False) < 1.0


def test_video_ari_needs_identities_to_persist_over_time():
    gt = np.array([[[1, 1, 2, 2]], [[1, 1, 2, 2]]], dtype=np.uint8)
    swapped = np.array([[[3, 3, 4, 4]], [[4, 4, 3, 3]]], dtype=np.uint8)
    # Each frame alone is perfect, but slot 3 covers object 1 then object 2.
    # Of the 28 pairs, 12 share an object, 12 share a slot, 4 share both:
    # expected 12 * 12 / 28, ARI = (4 - 36/7) / (12 - 36/7) = -1/6.
    assert video_ari(gt, swapped) == pytest.approx(-1 / 6)
    assert video_ari(gt[:1], swapped[:1]) == 1.0


def test_video_without_foreground_is_skipped():
    gt = np.array([[[0, 255], [0, 0]]], dtype=np.uint8)
    pred = np.ones_like(gt)
    assert video_ari(gt, pred) is None
    assert video_mbo(gt, pred) is None
    assert video_ari(gt, pred, ignore_background=False) == 1.0


def test_mbo_hand_case():
    gt = np.array([[[1, 1, 0, 0], [2, 2, 2, 2]]], dtype=np.uint8)
    pred = np.array([[[5, 5, 5, 0], [6, 6, 0, 0]]], dtype=np.uint8)
    # Object 1 {(0,0),(0,1)}: best slot 5 {(0,0),(0,1),(0,2)} -> 2/3.
    # Object 2 {row 1}: slot 6 -> 2/4; slot 0 {(0,3),(1,2),(1,3)} -> 2/5.
    assert video_mbo(gt, pred) == pytest.approx((2 / 3 + 1 / 2) / 2)
    # Background {(0,2),(0,3)} as an object: slot 0 -> 1/4, slot 5 -> 1/4.
    assert video_mbo(gt, pred, ignore_background=False) == pytest.approx(
        (2 / 3 + 1 / 2 + 1 / 4) / 3)


def test_ari_and_mbo_match_brute_force_on_random_videos():
    rng = np.random.default_rng(1)
    for _ in range(30):
        shape = (int(rng.integers(1, 4)), 3, 4)
        gt = rng.choice([0, 1, 2, 3, 255], shape, p=[.3, .25, .2, .15,
                                                     .1]).astype(np.uint8)
        pred = rng.integers(0, 4, shape).astype(np.uint8)
        for ignore_background in (True, False):
            kept = (gt != 255) & ((gt > 0) | (not ignore_background))
            expected_ari = _pair_counting_ari(gt[kept], pred[kept]) \
                if kept.any() else None
            ari = video_ari(gt, pred, ignore_background)
            assert ari == pytest.approx(expected_ari, abs=1e-12)
            assert video_mbo(gt, pred, ignore_background) == pytest.approx(
                _brute_force_mbo(gt, pred, ignore_background), abs=1e-12)


def test_bad_inputs_raise_clear_errors():
    gt = np.zeros((2, 2, 2), dtype=np.uint8)
    with pytest.raises(ValueError, match='cam: pred_masks: expected integer'):
        video_ari(gt, gt.astype(np.float64), video_name='cam')
    with pytest.raises(ValueError, match='cam: 2 ground-truth frames but 1'):
        video_mbo(gt, gt[:1], video_name='cam')


def _sample(name, gt, pred, indices=None):
    sample = dict(video_name=name,
                  gt_masks=np.asarray(gt, np.uint8),
                  pred_masks=np.asarray(pred, np.uint8))
    if indices is not None:
        sample['gt_mask_frame_indices'] = np.asarray(indices)
    return sample


def test_metric_averages_over_videos_and_skips_empty_ones():
    metric = METRICS.build(dict(type='ObjectDiscoveryMetric'))
    gt = np.array([[[1, 1, 2, 2]], [[1, 1, 2, 2]]])
    swapped = np.array([[[3, 3, 4, 4]], [[4, 4, 3, 3]]])
    perfect = np.array([[[3, 3, 4, 4]], [[3, 3, 4, 4]]])
    # Video 'a': ARI -1/6 (see above), mBO: each object best-overlaps a slot
    # with 2 shared of 4 + 4 - 2 pixels -> 1/3.
    metric.process({}, [_sample('a', gt, swapped)])
    # Video 'b': perfect, predicted frames 0 and 2 of three are annotated.
    pred_b = np.concatenate([perfect[:1], np.full((1, 1, 4), 7), perfect[1:]])
    metric.process({}, [VideoDataSample(**_sample('b', gt, pred_b, [0, 2]))])
    # Video 'c': no object -> skipped with a warning.
    metric.process({}, [_sample('c', np.zeros((1, 1, 4)), perfect[:1])])
    with mock.patch.object(MMLogger.get_current_instance(),
                           'warning') as warning:
        results = metric.evaluate(3)
    assert "left out of ARI and mBO: ['c']" in warning.call_args[0][0]
    assert results['objects/FG-ARI'] == pytest.approx((-1 / 6 + 1) / 2)
    assert results['objects/mBO'] == pytest.approx((1 / 3 + 1) / 2)


def test_metric_errors_and_options(tmp_path):
    empty = _sample('c', np.zeros((1, 1, 4)), np.zeros((1, 1, 4)))
    metric = ObjectDiscoveryMetric()
    metric.process({}, [empty])
    with pytest.raises(ValueError,
                       match='no processed video has a '
                       'ground-truth object'):
        metric.evaluate(1)
    metric = ObjectDiscoveryMetric(ignore_background=False, prefix='ytvis')
    metric.process({}, [empty])
    assert metric.evaluate(1) == {'ytvis/ARI': 1.0, 'ytvis/mBO': 1.0}
    with pytest.raises(ValueError, match='format_only=True needs'):
        ObjectDiscoveryMetric(format_only=True)
    with pytest.raises(KeyError,
                       match="c: the data sample has no "
                       "'pred_masks'"):
        ObjectDiscoveryMetric().process({}, [dict(video_name='c')])
    metric = ObjectDiscoveryMetric(format_only=True, output_dir=str(tmp_path))
    metric.process({}, [empty])
    assert metric.evaluate(1) == {}
    assert read_indexed_png(tmp_path / 'c' / '00000.png').shape == (1, 4)


def test_large_and_negative_ids_take_the_unique_path():
    rng = np.random.default_rng(2)
    gt = rng.choice([0, 1, 2, 255], (3, 4, 5)).astype(np.int64)
    pred = rng.integers(0, 3, (3, 4, 5))
    # Relabel predictions with huge / negative ids: same partition.
    relabelled = np.array([-7, 10**6, 2**40])[pred]
    for metric in (video_ari, video_mbo):
        assert metric(gt, relabelled) == pytest.approx(metric(gt, pred),
                                                       abs=1e-12)


def test_real_masks_dense_and_unique_paths_agree(davis_masks):
    """RVOS proposals scored against OSVOS masks of a real sequence."""
    frames = sorted((davis_masks / 'osvos' / 'kite-surf').glob('*.png'))[:8]
    gt = np.stack([read_indexed_png(path) for path in frames])
    pred = np.stack([
        read_indexed_png(davis_masks / 'rvos' / 'kite-surf' / path.name)
        for path in frames
    ])
    shifted = pred.astype(np.int64) + 10**7  # forces the np.unique path
    for metric in (video_ari, video_mbo):
        dense = metric(gt, pred)
        assert -1 <= dense <= 1
        assert metric(gt, shifted) == pytest.approx(dense, abs=1e-12)
