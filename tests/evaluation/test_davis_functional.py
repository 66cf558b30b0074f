"""Hand-computed cases of the DAVIS-2017 J, boundary F, statistics and
sequence evaluations (official davis2017-evaluation definitions)."""
import numpy as np
import pytest

from mmsmtc.evaluation.functional import (
    boundary_f_measure, boundary_map, boundary_tolerance, db_statistics,
    disk_kernel, evaluate_semisupervised_sequence, evaluate_sequence,
    evaluate_unsupervised_sequence, global_statistics, num_gt_objects,
    object_boundaries, pairwise_boundary_f, pairwise_region_similarity,
    region_similarity)


def _box(shape, top, bottom, left, right, value=1):
    mask = np.zeros(shape, np.uint8)
    mask[top:bottom, left:right] = value
    return mask


# ----------------------------------------------------------------- region J
def test_region_similarity_hand_computed():
    gt = _box((4, 4), 0, 2, 0, 2)
    pred = _box((4, 4), 0, 2, 1, 3)
    assert region_similarity(gt, pred) == pytest.approx(2 / 6)
    void = _box((4, 4), 0, 4, 2, 3)
    assert region_similarity(gt, pred, void) == pytest.approx(2 / 4)
    empty = np.zeros((4, 4), np.uint8)
    assert region_similarity(empty, empty) == 1
    assert region_similarity(gt, empty) == 0
    frames = region_similarity(np.stack([gt, empty]), np.stack([pred, empty]))
    np.testing.assert_allclose(frames, [1 / 3, 1])


def test_region_similarity_shape_mismatch():
    with pytest.raises(ValueError, match='differ in shape'):
        region_similarity(np.zeros((2, 2)), np.zeros((2, 3)))


@pytest.mark.parametrize('num_objects,num_proposals', [(2, 3), (20, 20)])
def test_pairwise_region_similarity_matches_single_pairs(
        num_objects, num_proposals):
    # (2, 3) takes the OpenCV histogram, (20, 20) the bincount path.
    rng = np.random.default_rng(0)
    gt = rng.integers(0, num_objects + 1, (9, 11)).astype(np.uint8)
    pred = rng.integers(0, num_proposals + 1, (9, 11)).astype(np.uint8)
    pred[3:] = np.where(rng.random((6, 11)) < 0.2, 0, pred[3:])
    pred[:2] = gt[:2] = 0
    table = pairwise_region_similarity(gt, pred, num_objects, num_proposals)
    assert table.shape == (num_proposals, num_objects)
    for proposal in range(num_proposals):
        for obj in range(num_objects):
            expected = region_similarity(gt == obj + 1, pred == proposal + 1)
            assert table[proposal, obj] == expected


# ------------------------------------------------------------- boundary map
def test_boundary_map_is_offset_towards_origin():
    mask = _box((4, 4), 1, 3, 1, 3)
    expected = np.array(
        [[1, 1, 1, 0], [1, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]], bool)
    np.testing.assert_array_equal(boundary_map(mask), expected)


def test_boundary_map_image_edges():
    # The last row compares east only, the last column south only, and the
    # bottom-right pixel is never a boundary.
    corner = _box((3, 3), 2, 3, 2, 3)
    expected = np.zeros((3, 3), bool)
    expected[1, 1] = expected[1, 2] = expected[2, 1] = True
    np.testing.assert_array_equal(boundary_map(corner), expected)
    assert not boundary_map(np.ones((3, 3))).any()
    with pytest.raises(ValueError, match=r'\(H, W\)'):
        boundary_map(np.zeros((2, 2, 2)))


def test_object_boundaries_equal_per_object_maps():
    rng = np.random.default_rng(1)
    for _ in range(20):
        ids = rng.integers(0, 4, (7, 9)) * (rng.random((7, 9)) < 0.6)
        boundaries = object_boundaries(ids.astype(np.uint8), 3)
        for obj, (rows, cols) in enumerate(boundaries, start=1):
            found = np.zeros(ids.shape, bool)
            found[rows, cols] = True
            np.testing.assert_array_equal(found, boundary_map(ids == obj))
    assert all(
        len(rows) == 0
        for rows, _ in object_boundaries(np.zeros((3, 3), np.uint8), 2))
    with pytest.raises(TypeError, match='expected uint8 id maps'):
        object_boundaries(np.zeros((3, 3), np.int64), 2)


# ----------------------------------------------------------------- disk, F
def test_disk_kernel_is_skimage_disk():
    expected = np.array([[0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1],
                         [0, 1, 1, 1, 0], [0, 0, 1, 0, 0]], np.uint8)
    np.testing.assert_array_equal(disk_kernel(2.0), expected)
    assert disk_kernel(8.0).shape == (17, 17)
    assert disk_kernel(8.0).sum() == 197


def test_boundary_tolerance_of_davis_sizes():
    assert boundary_tolerance(480, 854) == 8
    assert boundary_tolerance(480, 910) == 9
    assert boundary_tolerance(480, 1152) == 10
    assert boundary_tolerance(10, 10, bound_th=3) == 3


def test_boundary_f_of_shifted_single_pixels():
    # A single pixel (y, x) has the boundary {(y-1, x-1), (y-1, x), (y, x-1),
    # (y, x)}. Shifted by 2 columns: at radius 1 two of four pixels of each
    # boundary are matched, at radius 2 all (distance exactly 2 counts).
    gt = _box((12, 12), 5, 6, 5, 6)
    pred = _box((12, 12), 5, 6, 7, 8)
    assert boundary_f_measure(gt, pred, bound_th=1) == 0.5
    assert boundary_f_measure(gt, pred, bound_th=2) == 1.0
    # Shifted diagonally: the far corner is sqrt(2) away, outside radius 1.
    pred = _box((12, 12), 6, 7, 6, 7)
    assert boundary_f_measure(gt, pred, bound_th=1) == 0.75
    assert boundary_f_measure(gt, pred, bound_th=2) == 1.0


def test_boundary_f_corner_cases():
    empty = np.zeros((6, 6), np.uint8)
    obj = _box((6, 6), 1, 4, 1, 4)
    assert boundary_f_measure(empty, empty) == 1.0
    assert boundary_f_measure(obj, empty) == 0.0
    assert boundary_f_measure(empty, obj) == 0.0
    assert boundary_f_measure(obj, obj) == 1.0
    far = _box((60, 60), 40, 50, 40, 50)
    assert boundary_f_measure(_box((60, 60), 0, 5, 0, 5), far) == 0.0
    with pytest.raises(ValueError, match='one size'):
        boundary_f_measure(obj, np.zeros((5, 6)))


def test_boundary_f_void_removes_pixels_before_boundaries():
    gt = _box((10, 10), 2, 6, 2, 6)
    pred = gt.copy()
    pred[2:6, 6:9] = 1
    void = _box((10, 10), 0, 10, 6, 10)
    assert boundary_f_measure(gt, pred, bound_th=1) < 1
    assert boundary_f_measure(gt, pred, void, bound_th=1) == 1.0


def test_pairwise_boundary_f_matches_single_pairs():
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[:40, :50]
    gt = np.zeros((40, 50), np.uint8)
    pred = np.zeros((40, 50), np.uint8)
    for obj in range(1, 4):
        cy, cx, rad = rng.uniform(0, 40), rng.uniform(0,
                                                      50), rng.uniform(3, 12)
        gt[(yy - cy)**2 + (xx - cx)**2 < rad**2] = obj
    for proposal in range(1, 6):
        cy, cx, rad = rng.uniform(0, 40), rng.uniform(0,
                                                      50), rng.uniform(3, 12)
        pred[(yy - cy)**2 + (xx - cx)**2 < rad**2] = proposal
    table = pairwise_boundary_f(gt, pred, 3, 5, bound_th=3)
    for proposal in range(5):
        for obj in range(3):
            expected = boundary_f_measure(gt == obj + 1,
                                          pred == proposal + 1,
                                          bound_th=3)
            assert table[proposal, obj] == expected
    same_ids = pairwise_boundary_f(gt, pred, 3, 5, 3, same_ids_only=True)
    np.testing.assert_array_equal(same_ids, table * np.eye(5, 3))


# --------------------------------------------------------------- statistics
def test_db_statistics_hand_computed():
    values = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    mean, recall, decay = db_statistics(values)
    assert mean == pytest.approx(0.55)
    assert recall == 0.5  # 0.5 itself is not above 0.5
    # Bins [0:3] and [5:8] (bounds round(linspace(1, 8, 5)) - 1).
    assert decay == pytest.approx(0.8 - 0.3)


def test_db_statistics_rounds_halves_up():
    # T = 3: bounds 1, 1.5, 2, 2.5, 3 round up to 1, 2, 2, 3, 3, so the last
    # bin is frame 2 alone (banker's rounding would give frames 1-2).
    mean, recall, decay = db_statistics(np.array([1.0, 0.5, 0.0]))
    assert decay == pytest.approx(0.75)
    assert recall == pytest.approx(1 / 3)


def test_db_statistics_single_frame_and_empty():
    assert db_statistics(np.array([0.7])) == (0.7, 1.0, 0.0)
    assert all(np.isnan(db_statistics(np.zeros(0))))


def test_global_statistics_average_objects():
    per_object = {
        'a_1': dict.fromkeys(('J-Mean', 'J-Recall', 'J-Decay'), 1.0),
        'b_1': dict.fromkeys(('J-Mean', 'J-Recall', 'J-Decay'), 0.0),
    }
    for stats, value in zip(per_object.values(), (0.5, 0.25)):
        stats.update(dict.fromkeys(('F-Mean', 'F-Recall', 'F-Decay'), value))
    result = global_statistics(per_object)
    assert result['J-Mean'] == 0.5 and result['F-Mean'] == 0.375
    assert result['J&F-Mean'] == pytest.approx((0.5 + 0.375) / 2)
    with pytest.raises(ValueError, match='no objects'):
        global_statistics({})


# ---------------------------------------------------------------- sequences
def test_num_gt_objects_rules():
    first = np.array([[0, 2], [255, 0]], np.uint8)
    assert num_gt_objects(first) == 2
    assert num_gt_objects(np.full((2, 2), 255, np.uint8)) == 0


def test_semisupervised_empty_object_and_padding():
    # Object 1 never occurs; a prediction without it scores 1 there.
    gt = np.stack([_box((8, 8), 2, 5, 2, 5, value=2)] * 3)
    pred = gt.copy()
    scores = evaluate_semisupervised_sequence(gt, pred, num_objects=2)
    np.testing.assert_array_equal(scores['J'], np.ones((2, 3)))
    np.testing.assert_array_equal(scores['F'], np.ones((2, 3)))
    # Zero-padded: a prediction without object 2 scores 0 on it.
    scores = evaluate_semisupervised_sequence(gt, np.zeros_like(gt), 2)
    np.testing.assert_array_equal(scores['J'][1], 0)
    np.testing.assert_array_equal(scores['F'][1], 0)


def test_semisupervised_ignores_void_and_later_ids():
    gt = _box((8, 8), 2, 5, 2, 5)
    gt[5:7, 2:5] = 255
    gt[0, 0] = 3  # ids above the object count are background
    pred = gt.copy()
    pred[5:7, 2:5] = 1
    pred[0, 0] = 0
    scores = evaluate_semisupervised_sequence(gt[None], pred[None], 1)
    assert scores['J'][0, 0] == pytest.approx(9 / 15)  # void is background
    with pytest.raises(ValueError, match='only 1 objects'):
        evaluate_semisupervised_sequence(gt[None], gt[None], 1)
    wide = _box((8, 8), 2, 5, 2, 5).astype(np.int64)
    wide[6:, 6:] = 257  # not wrapped to id 1
    scores = evaluate_semisupervised_sequence(wide[None], (wide == 1)[None], 1)
    assert scores['J'][0, 0] == 1.0


def test_unsupervised_excludes_void():
    gt = _box((8, 8), 2, 5, 2, 5)
    gt[5:7, 2:5] = 255
    pred = _box((8, 8), 2, 7, 2, 5)
    scores = evaluate_unsupervised_sequence(gt[None], pred[None])
    assert scores['J'][0, 0] == 1.0 and scores['F'][0, 0] == 1.0


def test_unsupervised_matching_and_row_naming():
    shape = (10, 12)
    obj_1 = _box(shape, 1, 5, 1, 5)
    gt = obj_1 + _box(shape, 6, 9, 6, 11, value=2)
    pred = (
        _box(shape, 6, 9, 6, 11, value=1)  # proposal 1 = object 2
        + _box(shape, 0, 1, 8, 12, value=2)  # proposal 2: junk
        + _box(shape, 1, 5, 1, 3, value=3))  # proposal 3: half of obj 1
    gt, pred = np.stack([gt] * 2), np.stack([pred] * 2)
    scores = evaluate_unsupervised_sequence(gt, pred)
    np.testing.assert_array_equal(scores['proposal_ids'], [1, 3])
    np.testing.assert_array_equal(scores['object_ids'], [2, 1])
    np.testing.assert_array_equal(scores['J'][0], 1.0)
    np.testing.assert_allclose(scores['J'][1], 0.5)
    rows = evaluate_sequence('unsupervised', 'seq', gt, pred)
    # Rows follow the matched proposals, not the ground-truth ids.
    assert list(rows) == ['seq_1', 'seq_2']
    assert rows['seq_1']['J-Mean'] == 1.0
    assert rows['seq_2']['J-Mean'] == pytest.approx(0.5)


def test_unsupervised_unmatched_objects_score_zero():
    shape = (10, 12)
    gt = np.stack([_box(shape, 1, 5, 1, 5) + _box(shape, 6, 9, 6, 11, 2)] * 3)
    pred = np.stack([_box(shape, 6, 9, 6, 11)] * 3)
    rows = evaluate_sequence('unsupervised', 'seq', gt, pred)
    assert rows['seq_1']['J-Mean'] == 1.0
    assert rows['seq_2']['J-Mean'] == 0.0 and rows['seq_2']['F-Mean'] == 0.0
    assert rows['seq_2']['J-Recall'] == 0.0


def test_unsupervised_too_many_proposals():
    gt = _box((4, 30), 0, 2, 0, 2)[None]
    pred = np.arange(30, dtype=np.uint8)[None, None].repeat(4, axis=1)
    with pytest.raises(ValueError, match='more than the 20 proposals'):
        evaluate_unsupervised_sequence(gt, pred)


def test_sequence_input_errors():
    frames = np.zeros((2, 4, 4), np.uint8)
    with pytest.raises(ValueError, match='without frames'):
        evaluate_unsupervised_sequence(frames[:0], frames[:0])
    with pytest.raises(ValueError, match='2 ground-truth frames but 1'):
        evaluate_unsupervised_sequence(frames, frames[:1])
    with pytest.raises(ValueError, match='frame 1'):
        evaluate_unsupervised_sequence(
            [frames[0], frames[1]],
            [frames[0], np.zeros((4, 5), np.uint8)])
    with pytest.raises(ValueError, match='frame 0: prediction has negative'):
        evaluate_unsupervised_sequence(frames, -frames.astype(int) - 1)
    with pytest.raises(ValueError, match='task must be'):
        evaluate_sequence('supervised', 'seq', frames, frames)
