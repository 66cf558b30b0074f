"""Tests of the single-object J (functional and SingleObjectMetric)."""
import numpy as np
import pytest
import torch

from mmsmtc.evaluation.functional import (frame_intersections_unions,
                                          frame_jaccard, frame_mean_j,
                                          sequence_mean_j)
from mmsmtc.evaluation.metrics import SingleObjectMetric
from mmsmtc.registry import METRICS
from mmsmtc.structures.video_data_sample import VideoDataSample
from mmsmtc.utils import read_indexed_png


def _two_frame_video():
    """Frame 0: J = 1/3 (void pixel excluded); frame 1: both empty, J = 1."""
    gt = np.array([[[1, 2, 0], [0, 255, 0]], [[0, 0, 0], [0, 0, 0]]],
                  dtype=np.uint8)
    pred = np.array([[[3, 0, 0], [0, 1, 7]], [[0, 0, 0], [0, 0, 0]]],
                    dtype=np.uint8)
    # Frame 0: gt foreground {(0,0), (0,1)} (ids 1 and 2 merged, the void
    # (1,1) dropped); pred foreground {(0,0), (1,2)} ((1,1) is void).
    # Intersection 1, union 3.
    return gt, pred


def test_intersections_unions_merge_objects_and_drop_void():
    gt, pred = _two_frame_video()
    intersections, unions = frame_intersections_unions(gt, pred)
    np.testing.assert_array_equal(intersections, [1, 0])
    np.testing.assert_array_equal(unions, [3, 0])
    np.testing.assert_allclose(frame_jaccard(intersections, unions),
                               [1 / 3, 1.0])


def test_void_id_none_counts_255_as_foreground():
    gt, pred = _two_frame_video()
    intersections, unions = frame_intersections_unions(gt, pred, void_id=None)
    # (1,1) is now gt foreground and predicted (id 1): intersection 2,
    # union {(0,0), (0,1), (1,1), (1,2)} = 4.
    np.testing.assert_array_equal(intersections, [2, 0])
    np.testing.assert_array_equal(unions, [4, 0])


def test_sequence_mean_and_frame_mean_differ():
    video_a = np.array([1 / 3, 1.0])
    video_b = np.array([0.0, 0.5, 1.0])
    # Per-video means 2/3 and 1/2 -> 7/12; all five frames -> (17/6) / 5.
    assert sequence_mean_j([video_a, video_b]) == pytest.approx(7 / 12)
    assert frame_mean_j([video_a, video_b]) == pytest.approx(17 / 30)


@pytest.mark.parametrize('reduce', [sequence_mean_j, frame_mean_j])
def test_reductions_reject_empty_input(reduce):
    with pytest.raises(ValueError, match='no video'):
        reduce([])
    with pytest.raises(ValueError, match='video 1 has no scored frame'):
        reduce([np.ones(2), np.zeros(0)])


def test_bad_masks_raise_clear_errors():
    gt, pred = _two_frame_video()
    with pytest.raises(ValueError, match='cam: pred_masks: expected integer'):
        frame_intersections_unions(gt,
                                   pred.astype(np.float32),
                                   video_name='cam')
    with pytest.raises(ValueError, match='cam: 2 ground-truth frames but 1'):
        frame_intersections_unions(gt, pred[:1], video_name='cam')
    with pytest.raises(ValueError,
                       match=r'cam: frame 0 has ground truth of '
                       r'size \(2, 3\) but prediction of size \(2, 2\)'):
        frame_intersections_unions(gt, pred[:, :, :2], video_name='cam')
    with pytest.raises(ValueError, match='expected 3 dimensions'):
        frame_intersections_unions(gt[0], pred[0])
    with pytest.raises(ValueError, match='empty array'):
        frame_intersections_unions(gt[:0], pred[:0])


def _sample(name, gt, pred, indices=None):
    sample = dict(video_name=name, gt_masks=gt, pred_masks=pred)
    if indices is not None:
        sample['gt_mask_frame_indices'] = np.asarray(indices)
    return sample


def test_metric_sparse_annotations_and_both_reductions():
    gt, pred = _two_frame_video()
    # Video 'a': 4 predicted frames, frames 1 and 3 annotated with `gt`;
    # frames 0 and 2 are wrong everywhere and must not be scored.
    pred_a = np.full((4, 2, 3), 9, dtype=np.uint8)
    pred_a[[1, 3]] = pred
    # Video 'b': one frame, gt foreground 2 pixels, prediction covers one
    # of them plus one more: J = 1/3.
    gt_b = np.array([[[1, 1, 0]]], dtype=np.uint8)
    pred_b = np.array([[[1, 0, 1]]], dtype=np.uint8)
    metric = METRICS.build(dict(type='SingleObjectMetric'))
    metric.process({}, [_sample('a', gt, pred_a, [1, 3])])
    metric.process({}, [VideoDataSample(**_sample('b', gt_b, pred_b))])
    results = metric.evaluate(2)
    # Per-video means: (1/3 + 1) / 2 = 2/3 and 1/3 -> J = 1/2;
    # frames: (1/3 + 1 + 1/3) / 3 = 5/9.
    assert results['davis16/J'] == pytest.approx(0.5)
    assert results['davis16/J-frame'] == pytest.approx(5 / 9)


def test_metric_drop_first_last_and_prefix():
    gt = np.zeros((4, 1, 2), dtype=np.uint8)
    gt[:, 0, 0] = 1
    pred = gt.copy()
    pred[0] = 0  # frame 0: J = 0
    pred[3, 0, 1] = 1  # frame 3: J = 1/2
    metric = SingleObjectMetric(drop_first_last=True, prefix='fbms')
    metric.process({}, [_sample('v', gt, pred)])
    # Only frames 1 and 2 (both J = 1) are scored.
    assert metric.evaluate(1) == {'fbms/J': 1.0, 'fbms/J-frame': 1.0}
    metric = SingleObjectMetric()
    metric.process({}, [_sample('v', gt, pred)])
    assert metric.evaluate(1)['davis16/J'] == pytest.approx(
        (0 + 1 + 1 + .5) / 4)
    with pytest.raises(ValueError, match='v: drop_first_last needs at least'):
        SingleObjectMetric(drop_first_last=True).process(
            {}, [_sample('v', gt[:2], pred[:2])])


def test_metric_errors():
    gt, pred = _two_frame_video()
    metric = SingleObjectMetric()
    with pytest.raises(KeyError,
                       match="cam: the data sample has no "
                       "'gt_masks'"):
        metric.process({}, [dict(video_name='cam', pred_masks=pred)])
    with pytest.raises(ValueError,
                       match='cam: 2 ground-truth frames but 3 '
                       'predicted frames and no gt_mask_frame_indices'):
        metric.process({},
                       [_sample('cam', gt, np.concatenate([pred, pred[:1]]))])
    with pytest.raises(ValueError,
                       match='cam: annotated frame 5 lies outside'):
        metric.process({}, [_sample('cam', gt, pred, [0, 5])])
    with pytest.raises(ValueError, match='cam: 1 gt_mask_frame_indices for 2'):
        metric.process({}, [_sample('cam', gt, pred, [0])])
    with pytest.raises(ValueError, match='must be integers'):
        metric.process({}, [_sample('cam', gt, pred, [0.0, 1.0])])
    with pytest.raises(TypeError, match='data samples must be dicts'):
        metric.process({}, [[gt, pred]])
    with pytest.raises(ValueError, match='format_only=True needs'):
        SingleObjectMetric(format_only=True)


def test_metric_format_only_writes_indexed_pngs(tmp_path):
    _, pred = _two_frame_video()
    metric = SingleObjectMetric(format_only=True, output_dir=str(tmp_path))
    sample = dict(video_name='cam',
                  pred_masks=pred,
                  frame_names=['00010', '00011'])
    metric.process({}, [sample])
    assert metric.evaluate(1) == {}
    np.testing.assert_array_equal(
        read_indexed_png(tmp_path / 'cam' / '00011.png'), pred[1])
    with pytest.raises(ValueError, match='cam: 1 frame_names for 2'):
        metric.process({}, [dict(sample, frame_names=['0'])])


def test_real_masks_against_per_frame_loop(davis_masks):
    """OSVOS vs RVOS foregrounds of a real sequence, checked frame by frame."""
    frames = sorted((davis_masks / 'osvos' / 'car-shadow').glob('*.png'))[:10]
    gt = np.stack([read_indexed_png(path) for path in frames])
    pred = np.stack([
        read_indexed_png(davis_masks / 'rvos' / 'car-shadow' / path.name)
        for path in frames
    ])
    intersections, unions = frame_intersections_unions(gt, pred)
    for frame in range(len(frames)):
        scored = gt[frame] != 255
        gt_fg = (gt[frame] > 0) & scored
        pred_fg = (pred[frame] > 0) & scored
        assert intersections[frame] == np.sum(gt_fg & pred_fg)
        assert unions[frame] == np.sum(gt_fg | pred_fg)
    assert 0.5 < frame_mean_j([frame_jaccard(intersections, unions)]) <= 1


def test_metric_accepts_tensors():
    gt, pred = _two_frame_video()
    metric = SingleObjectMetric()
    metric.process({}, [
        VideoDataSample(
            video_name='t',
            gt_masks=torch.from_numpy(gt),
            pred_masks=torch.from_numpy(pred))
    ])
    assert metric.evaluate(1)['davis16/J'] == pytest.approx((1 / 3 + 1) / 2)
