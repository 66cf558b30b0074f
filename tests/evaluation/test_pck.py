"""Tests of JHMDB PCK (functional keypoints and PCKMetric)."""
import numpy as np
import pytest

from mmsmtc.evaluation.functional import (PCK_PROTOCOLS, ground_truth_frames,
                                          joint_hit_counts,
                                          normalised_joint_distances, pck,
                                          pck_from_counts, pose_scales)
from mmsmtc.evaluation.metrics import PCKMetric
from mmsmtc.registry import METRICS

INVISIBLE = (-1.0, -1.0)


def _video(frames_gt, frames_pred):
    return (np.asarray(frames_gt, dtype=np.float32),
            np.asarray(frames_pred, dtype=np.float32))


def test_scale_is_point_six_box_diagonal():
    gt = np.array([[[0, 0], [30, 40], [10, 10]]], dtype=np.float64)
    visible = np.ones((1, 3), dtype=bool)
    # Box (0,0)-(30,40): diagonal 50, scale 0.6 * 50 = 30.
    np.testing.assert_allclose(pose_scales(gt, visible), [30.0])
    # Joint 1 invisible: box (0,0)-(10,10), diagonal 10 * sqrt(2).
    visible[0, 1] = False
    np.testing.assert_allclose(pose_scales(gt, visible),
                               [0.6 * 10 * np.sqrt(2)])


def test_scale_keeps_reference_running_extremes():
    # All x below -1: the reference's running maximum starts at -1, so the
    # box spans x in [-5, -1] (width 4), not [-5, -3]; y spans [0, 3].
    gt = np.array([[[-5, 0], [-3, 3]]], dtype=np.float64)
    np.testing.assert_allclose(pose_scales(gt, np.ones((1, 2), dtype=bool)),
                               [0.6 * 5.0])


def test_threshold_is_inclusive_and_first_frame_skipped():
    frame_gt = [[0, 0], [30, 40], [10, 10]]
    gt, pred = _video(
        [frame_gt, frame_gt],
        [
            [[500, 500], [500, 500], [500, 500]],  # frame 0: ignored
            # Joint 0 exactly 3 px = 0.1 * scale 30 away; joint 1 3.0001 px
            # away; joint 2 exact.
            [[3, 0], [30, 43.0001], [10, 10]],
        ])
    distances, scored = normalised_joint_distances(gt, pred)
    assert not scored[0].any() and scored[1].all()
    hits, totals = joint_hit_counts(distances, scored, [0.1, 0.2])
    np.testing.assert_array_equal(hits, [[1, 0, 1], [1, 1, 1]])
    np.testing.assert_array_equal(totals, [1, 1, 1])
    np.testing.assert_allclose(pck([gt], [pred], [0.1, 0.2]), [2 / 3, 1.0])
    # With frame 0 scored (VFS), its three misses join the denominators.
    np.testing.assert_allclose(pck([gt], [pred], [0.2], protocol='vfs'),
                               [0.5])


def test_invisible_predictions_are_skipped_by_their_x():
    frame_gt = [[0, 0], [30, 40], [1000, 1000]]
    gt, pred = _video(
        [frame_gt, frame_gt],
        [
            [[0, 0], [30, 40], [1000, 1000]],
            # Joint 2 invisible (x < 0, whatever y): skipped and out of the
            # box, so the scale stays 30 and joint 0 (6 px off) is a hit at
            # 0.2 only; joint 1 at x == 0 is visible and scored (a miss).
            [[6, 0], [0, 40], [-1, 5]],
        ])
    distances, scored = normalised_joint_distances(gt, pred)
    np.testing.assert_array_equal(scored[1], [True, True, False])
    np.testing.assert_allclose(distances[1, :2], [0.2, 1.0])
    hits, totals = joint_hit_counts(distances, scored, [0.1, 0.2])
    np.testing.assert_array_equal(hits, [[0, 0, 0], [1, 0, 0]])
    np.testing.assert_array_equal(totals, [1, 1, 0])


def test_single_visible_joint_has_zero_scale_and_misses():
    gt, pred = _video([[[5, 5], [9, 9]]] * 2,
                      [[[5, 5], [9, 9]], [[5, 5], INVISIBLE]])
    distances, scored = normalised_joint_distances(gt, pred)
    # Box of one joint: scale 0, distance 0 / 0 = nan; scored, never a hit.
    assert scored[1, 0] and np.isnan(distances[1, 0])
    hits, totals = joint_hit_counts(distances, scored, [0.5])
    assert hits[0, 0] == 0 and totals[0] == 1


def _scale_30_frame(offsets):
    """GT box (0,0)-(30,40) (scale 30); joint j predicted ``offsets[j]`` px
    to the right of its ground truth, or invisible when None."""
    gt = [[0, 0], [30, 40], [15, 20]]
    pred = [
        INVISIBLE if dx is None else [x + dx, y]
        for (x, y), dx in zip(gt, offsets)
    ]
    return gt, pred


def test_pooling_per_joint_over_videos_then_mean_over_joints():
    # Video 1 (2 scored frames): joint 0 hits twice, joint 1 misses twice,
    # joint 2 hits twice. Video 2 (1 scored frame): joint 0 misses, joint 1
    # invisible, joint 2 hits.
    frames_1 = [_scale_30_frame([0, 0, 0])] + [_scale_30_frame([1, 20, 1])] * 2
    frames_2 = [_scale_30_frame([0, 0, 0]), _scale_30_frame([20, None, 1])]
    video_1 = _video(*zip(*frames_1))
    video_2 = _video(*zip(*frames_2))
    # Pooled per joint: 2/3, 0/2, 3/3 -> mean 5/9. (Pooling all entries
    # would give 5/8; averaging per-video means would give another number.)
    result = pck([video_1[0], video_2[0]], [video_1[1], video_2[1]], [0.1])
    np.testing.assert_allclose(result, [5 / 9])


def test_never_scored_joint_is_an_error():
    hits = np.array([[1, 0]])
    with pytest.raises(ValueError, match=r'joints \[1\] have no visible'):
        pck_from_counts(hits, np.array([2, 0]))


def test_bad_keypoints_raise_clear_errors():
    gt, pred = _video(*zip(*[_scale_30_frame([0, 0, 0])] * 2))
    with pytest.raises(ValueError,
                       match=r'v: gt_keypoints: expected '
                       r'\(T, J, 2\)'):
        normalised_joint_distances(gt[..., :1], pred, video_name='v')
    with pytest.raises(ValueError, match='v: gt_keypoints of shape'):
        normalised_joint_distances(gt[:1], pred, video_name='v')
    bad = pred.copy()
    bad[1, 0, 0] = np.nan
    with pytest.raises(ValueError,
                       match='pred_keypoints: keypoints must be '
                       'finite'):
        normalised_joint_distances(gt, bad)
    with pytest.raises(ValueError, match='expected numeric'):
        normalised_joint_distances(gt, pred.astype(str))
    with pytest.raises(ValueError, match='0 ground-truth videos'):
        pck([], [])
    with pytest.raises(ValueError, match='video 1 has 2 joints'):
        pck([gt, gt[:, :2]], [pred, pred[:, :2]])


def test_metric_process_and_compute():
    frames_1 = [_scale_30_frame([0, 0, 0])] + [_scale_30_frame([1, 20, 1])] * 2
    frames_2 = [_scale_30_frame([0, 0, 0]), _scale_30_frame([20, None, 1])]
    metric = METRICS.build(dict(type='PCKMetric', alphas=[0.1, 0.7]))
    for name, frames in (('a', frames_1), ('b', frames_2)):
        gt, pred = _video(*zip(*frames))
        metric.process(
            {}, [dict(video_name=name, gt_keypoints=gt, pred_keypoints=pred)])
    # Same pooling as the functional test at 0.1. At 0.7 joint 1 of video 1
    # (20 / 30) hits; joint 0 of video 2 still misses (its joint 1 is
    # invisible, so its box is (0,0)-(15,20), scale 15, 20 / 15 > 0.7):
    # 2/3, 2/2, 3/3 -> 8/9.
    results = metric.evaluate(2)
    assert results == pytest.approx({
        'jhmdb/PCK@0.1': 5 / 9,
        'jhmdb/PCK@0.7': 8 / 9
    })


def test_metric_errors_and_format_only(tmp_path):
    gt, pred = _video(*zip(*[_scale_30_frame([0, 0, 0])] * 2))
    with pytest.raises(ValueError, match='alphas must be positive'):
        PCKMetric(alphas=[])
    with pytest.raises(ValueError, match='format_only=True needs'):
        PCKMetric(format_only=True)
    with pytest.raises(KeyError,
                       match="v: the data sample has no "
                       "'gt_keypoints'"):
        PCKMetric().process({}, [dict(video_name='v', pred_keypoints=pred)])
    metric = PCKMetric()
    metric.process(
        {}, [dict(video_name='a', gt_keypoints=gt, pred_keypoints=pred)])
    metric.process({}, [
        dict(
            video_name='b', gt_keypoints=gt[:, :2], pred_keypoints=pred[:, :2])
    ])
    with pytest.raises(ValueError, match='different numbers of joints'):
        metric.evaluate(2)
    with pytest.raises(ValueError, match='no video was processed'):
        PCKMetric().compute_metrics([])
    metric = PCKMetric(format_only=True, output_dir=str(tmp_path))
    metric.process({}, [dict(video_name='brush/1', pred_keypoints=pred)])
    assert metric.evaluate(1) == {}
    np.testing.assert_array_equal(np.load(tmp_path / 'brush' / '1.npy'), pred)


def _loop_pck(videos, alphas):
    """Plain-loop restatement of the reference procedure, for cross-checks."""
    per_joint = {}
    for gt, pred in videos:
        for frame in range(len(gt)):
            visible = [pred[frame, j, 0] >= 0 for j in range(gt.shape[1])]
            max_x, max_y, min_x, min_y = -1.0, -1.0, 1e6, 1e6
            for j in range(gt.shape[1]):
                if visible[j]:
                    max_x, max_y = max(max_x,
                                       gt[frame, j,
                                          0]), max(max_y, gt[frame, j, 1])
                    min_x, min_y = min(min_x,
                                       gt[frame, j,
                                          0]), min(min_y, gt[frame, j, 1])
            scale = 0.6 * np.hypot(max_x - min_x, max_y - min_y)
            for j in range(gt.shape[1]):
                if not visible[j] or frame == 0:
                    continue
                distance = np.hypot(*(pred[frame, j] - gt[frame, j]))
                with np.errstate(divide='ignore', invalid='ignore'):
                    per_joint.setdefault(j, []).append(
                        np.float64(distance) / scale)
    return [
        np.mean([np.mean(np.asarray(d) <= alpha) for d in per_joint.values()])
        for alpha in alphas
    ]


def test_matches_loop_restatement_on_random_videos():
    rng = np.random.default_rng(0)
    videos = []
    for _ in range(6):
        num_frames = int(rng.integers(2, 7))
        gt = rng.uniform(-20, 300, (num_frames, 5, 2))
        pred = gt + rng.normal(0, 25, gt.shape)
        hidden = rng.random((num_frames, 5)) < 0.3
        pred[hidden] = -1.0
        pred[:, 0] = gt[:, 0]  # joint 0: always visible and exact
        videos.append((gt, pred))
    alphas = [0.05, 0.1, 0.2, 0.3, 0.5]
    expected = _loop_pck(videos, alphas)
    result = pck([v[0] for v in videos], [v[1] for v in videos], alphas)
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12)


def test_vfs_box_takes_extremes_over_the_joints():
    # Same frame as test_scale_keeps_reference_running_extremes: every joint
    # visible, x in [-5, -3]. VFS's max over the joints is -3 (no clamp at
    # -1): box 2 x 3, scale 0.6 * sqrt(13).
    gt = np.array([[[-5, 0], [-3, 3]]], dtype=np.float64)
    visible = np.ones((1, 2), dtype=bool)
    np.testing.assert_allclose(pose_scales(gt, visible, 'joints'),
                               [0.6 * np.sqrt(13.0)])
    # With a hidden joint both rules put -1 into the maximum: equal again.
    gt3 = np.array([[[-5, 0], [-3, 3], [50, 50]]], dtype=np.float64)
    partly = np.array([[True, True, False]])
    np.testing.assert_allclose(pose_scales(gt3, partly, 'joints'),
                               pose_scales(gt3, partly, 'running'))
    with pytest.raises(ValueError, match='box_extremes'):
        pose_scales(gt, visible, 'bbox')


def test_vfs_protocol_end_to_end_on_a_hand_case():
    # Two frames, two joints, every ground-truth x left of -1; predictions
    # 20 px to the right (x = 15, 17: visible under both rules), joint 0 of
    # frame 1 also 1 px down. Distances: frame 0 (20, 20), frame 1
    # (sqrt(401) = 20.025, 20).
    # CRW: box x in [-5, -1] (clamped), y in [0, 3]: diagonal 5, scale 3;
    #   frame 0 skipped; frame 1: 6.675, 6.667.
    # VFS: box x in [-5, -3], y in [0, 3]: scale 0.6 sqrt(13) = 2.1633;
    #   frame 0: 9.2450, 9.2450; frame 1: 9.2566, 9.2450.
    gt = np.array([[[-5.0, 0.0], [-3.0, 3.0]]] * 2)
    pred = gt + [20.0, 0.0]
    pred[1, 0, 1] += 1.0
    crw_d, crw_scored = normalised_joint_distances(gt, pred)
    vfs = PCK_PROTOCOLS['vfs']
    vfs_d, vfs_scored = normalised_joint_distances(gt, pred,
                                                   vfs.skip_first_frame, 'v',
                                                   vfs.visibility,
                                                   vfs.box_extremes)
    np.testing.assert_allclose(crw_d[1], [np.sqrt(401) / 3, 20 / 3])
    vfs_scale = 0.6 * np.sqrt(13)
    np.testing.assert_allclose(
        vfs_d, [[20 / vfs_scale] * 2, [np.sqrt(401) / vfs_scale,
                                       20 / vfs_scale]])
    assert crw_scored.tolist() == [[False, False], [True, True]]
    assert vfs_scored.tolist() == [[True, True], [True, True]]
    # alpha 7: CRW hits both; VFS misses all four.
    np.testing.assert_allclose(pck([gt], [pred], [7.0]), [1.0])
    np.testing.assert_allclose(pck([gt], [pred], [7.0], protocol='vfs'),
                               [0.0])
    # alpha 9.25: VFS joint 0 hits in frame 0 only (1/2), joint 1 in both
    # (2/2): mean 0.75.
    np.testing.assert_allclose(pck([gt], [pred], [9.25], protocol='vfs'),
                               [0.75])
    with pytest.raises(ValueError, match='PCK protocol must be one of'):
        pck([gt], [pred], protocol='stt')


def test_videos_longer_than_their_ground_truth_are_cut_to_it():
    gt, pred = _video(*zip(*[_scale_30_frame([0, 0, 0])] * 2))
    # A third predicted frame without ground truth: not scored (both
    # official codes); were it scored, its joint-0 miss would lower PCK.
    longer = np.concatenate([pred, pred[-1:] + 1000])
    assert ground_truth_frames(longer, 2).shape == pred.shape
    np.testing.assert_allclose(pck([gt], [longer], [0.1]), [1.0])
    with pytest.raises(ValueError, match='v: 1 predicted frames but ground '
                       'truth for 2'):
        ground_truth_frames(pred[:1], 2, 'v')
    metric = PCKMetric(alphas=[0.1])
    metric.process({}, [dict(video_name='a', gt_keypoints=gt,
                             pred_keypoints=longer)])
    assert metric.evaluate(1) == {'jhmdb/PCK@0.1': 1.0}
    with pytest.raises(ValueError, match='PCK protocol must be one of'):
        PCKMetric(protocol='x > 0')


def test_unknown_protocol_is_refused():
    with pytest.raises(ValueError, match="PCK protocol must be one of"):
        PCKMetric(protocol='nope')
