"""The Betrayed-by-Attention authors' DAVIS-2017 evaluation
(``DAVISMetric(protocol='bba-authors')``), which is not the official one:
per-frame matching and the withheld last frame, on hand-made cases."""
import numpy as np
import pytest

from mmsmtc.evaluation.functional import (
    evaluate_unsupervised_sequence, evaluate_unsupervised_sequence_per_frame)
from mmsmtc.evaluation.metrics import DAVISMetric

LEFT = (slice(0, 4), slice(0, 2))
RIGHT = (slice(0, 4), slice(6, 8))


def _frame(**blocks):
    """An 8x8 id map with ``id=block`` regions (LEFT / RIGHT)."""
    ids = np.zeros((8, 8), np.uint8)
    for name, block in blocks.items():
        ids[block] = int(name[1:])
    return ids


def _swapping_video():
    """Objects 1 (left) and 2 (right) stay put; proposals 1 and 2 swap
    sides between frame 0 and frame 1."""
    gt = np.stack([_frame(o1=LEFT, o2=RIGHT)] * 2)
    pred = np.stack([_frame(o1=LEFT, o2=RIGHT), _frame(o1=RIGHT, o2=LEFT)])
    return gt, pred


def test_per_frame_matching_beats_the_official_per_video_matching():
    gt, pred = _swapping_video()
    # Per frame: frame 0 pairs p1-o1, p2-o2, frame 1 p1-o2, p2-o1; every
    # matched pair is exact (J = F = 1, disjoint blocks 4 px apart give 0).
    per_frame = evaluate_unsupervised_sequence_per_frame(gt, pred)
    np.testing.assert_array_equal(per_frame['J'], np.ones((2, 2)))
    np.testing.assert_array_equal(per_frame['F'], np.ones((2, 2)))
    np.testing.assert_array_equal(per_frame['proposal_ids'], [[1, 1], [2, 2]])
    np.testing.assert_array_equal(per_frame['object_ids'], [[1, 2], [2, 1]])
    # Official: every pair scores (1 + 0) / 2 over the video; one assignment
    # (p1-o1, p2-o2) for the whole sequence is right in frame 0 only.
    official = evaluate_unsupervised_sequence(gt, pred)
    np.testing.assert_array_equal(official['J'], [[1, 0], [1, 0]])
    np.testing.assert_array_equal(official['F'], [[1, 0], [1, 0]])


def test_rows_are_in_proposal_order_per_frame():
    # Three proposals, one object: frame 0 matches proposal 3, frame 1
    # proposal 1; the single row follows the best proposal of each frame.
    gt = np.stack([_frame(o1=LEFT)] * 2)
    pred = np.stack([_frame(o3=LEFT, o1=RIGHT), _frame(o1=LEFT, o3=RIGHT)])
    pred[0, 7, 7] = 2  # proposal 2: one far pixel
    scores = evaluate_unsupervised_sequence_per_frame(gt, pred)
    np.testing.assert_array_equal(scores['proposal_ids'], [[3, 1]])
    np.testing.assert_array_equal(scores['J'], [[1, 1]])
    with pytest.raises(ValueError, match='more than the 2 proposals'):
        evaluate_unsupervised_sequence_per_frame(gt, pred, max_proposals=2)


def _sample(gt, pred, names=None):
    sample = dict(video_name='swap',
                  gt_masks=gt,
                  gt_mask_frame_indices=np.arange(len(gt)),
                  pred_masks=pred)
    if names is not None:
        sample['frame_names'] = names
    return sample


def test_metric_restores_the_withheld_last_frame_and_matches_per_frame():
    gt, pred = _swapping_video()
    # A third frame where object 1 moved right and object 2 left. The model
    # saw frames 0 and 1 only; frame 2 is scored with frame 1's prediction
    # (p1 right, p2 left), which happens to be exact there: per-frame rows
    # are all 1.
    gt = np.concatenate([gt, _frame(o1=RIGHT, o2=LEFT)[None]])
    names = ['00000', '00001', '00002']
    metric = DAVISMetric(task='unsupervised', protocol='bba-authors')
    metric.process({}, [_sample(gt, pred, names)])
    results = metric.evaluate(1)
    assert results['davis/J&F-Mean'] == 1.0
    assert results['davis/J-Recall'] == 1.0
    # The official protocol on the same three frames (frame 2 copied by
    # hand): one assignment per video, p1-o1 and p2-o2 (J 1, 0, 1 each).
    official = DAVISMetric(task='unsupervised')
    official.process({}, [_sample(gt, np.concatenate([pred, pred[-1:]]))])
    assert official.evaluate(1)['davis/J-Mean'] == pytest.approx(2 / 3)


def test_the_copied_frame_is_scored():
    # One object leaves the left block for the right one in the last frame;
    # the withheld frame is predicted as the second-last: J = [1, 1, 0].
    gt = np.stack([_frame(o1=LEFT), _frame(o1=LEFT), _frame(o1=RIGHT)])
    pred = np.stack([_frame(o1=LEFT), _frame(o1=LEFT)])
    metric = DAVISMetric(task='unsupervised', protocol='bba-authors')
    metric.process({}, [_sample(gt, pred)])
    results = metric.evaluate(1)
    assert results['davis/J-Mean'] == pytest.approx(2 / 3)
    assert results['davis/F-Mean'] == pytest.approx(2 / 3)


def test_protocol_errors():
    gt, pred = _swapping_video()
    with pytest.raises(ValueError, match='protocol must be one of'):
        DAVISMetric(task='unsupervised', protocol='authors')
    with pytest.raises(ValueError, match='unsupervised evaluation'):
        DAVISMetric(protocol='bba-authors')
    metric = DAVISMetric(task='unsupervised', protocol='bba-authors')
    # Predictions of every frame: the last frame was not withheld.
    with pytest.raises(ValueError, match='WithholdLastFrame'):
        metric.process({}, [_sample(gt, pred)])
    partly = _sample(gt, pred[:1])
    partly['gt_mask_frame_indices'] = np.array([0, 2])
    with pytest.raises(ValueError, match='needs every frame annotated'):
        metric.process({}, [partly])
