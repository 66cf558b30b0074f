"""Tests of the confusion-matrix mIoU (functional and MIoUMetric)."""
import numpy as np
import pytest
from PIL import Image

from mmsmtc.datasets import VideoFolderDataset
from mmsmtc.evaluation.functional import (VIP_PART_CLASSES, confusion_matrix,
                                          histogram_areas, histogram_counts,
                                          iou_from_areas, mean_iou,
                                          nearest_resize, per_class_iou,
                                          video_confusion_matrix,
                                          video_histogram_areas)
from mmsmtc.evaluation.metrics import MIoUMetric
from mmsmtc.registry import METRICS
from mmsmtc.utils import read_indexed_png, register_all_modules


def test_confusion_matrix_ignores_void_and_out_of_range_labels():
    gt = np.array([[0, 1], [1, 255], [7, 0]])
    pred = np.array([[0, 1], [0, 1], [1, 0]])
    # Scored pixels (gt, pred): (0,0), (1,1), (1,0), (0,0); the void pixel
    # and the gt-7 pixel (outside [0, 2)) are ignored.
    np.testing.assert_array_equal(confusion_matrix(gt, pred, 2),
                                  [[2, 0], [1, 1]])


def test_per_class_iou_and_nan_mean():
    confusion = np.array([[2, 0, 0], [1, 1, 0], [0, 0, 0]])
    # Class 0: TP 2, union 2 + 3 - 2 = 3. Class 1: TP 1, union 2 + 1 - 1 = 2.
    # Class 2: in neither ground truth nor prediction -> NaN, left out.
    ious = per_class_iou(confusion)
    np.testing.assert_allclose(ious[:2], [2 / 3, 1 / 2])
    assert np.isnan(ious[2])
    assert mean_iou(confusion) == pytest.approx((2 / 3 + 1 / 2) / 2)
    # A class only predicted has IoU 0 and does count.
    confusion[0, 2] = 1
    assert per_class_iou(confusion)[2] == 0
    with pytest.raises(ValueError, match='no ground-truth pixel'):
        mean_iou(np.zeros((3, 3), dtype=np.int64))


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match='cam: predicted class 5 outside'):
        confusion_matrix(np.zeros((2, 2)), np.full((2, 2), 5), 3, 'cam')
    with pytest.raises(ValueError,
                       match=r'cam: ground truth of shape \(2, 2\)'
                       r' but prediction of shape \(2, 3\)'):
        confusion_matrix(np.zeros((2, 2)), np.zeros((2, 3)), 3, 'cam')


def test_nearest_resize_hand_cases():
    ids = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    np.testing.assert_array_equal(nearest_resize(
        ids, (4, 4)), [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]])
    # 3 -> 2 columns: output centres 0.5, 1.5 map to 0.75, 2.25 -> 0, 2.
    row = np.array([[5, 6, 7]], dtype=np.int64)
    np.testing.assert_array_equal(nearest_resize(row, (1, 2)), [[5, 7]])
    assert nearest_resize(row, (1, 2)).dtype == np.int64
    assert nearest_resize(row, (1, 3)) is row


def test_nearest_resize_matches_palette_image_resize():
    rng = np.random.default_rng(0)
    for _ in range(20):
        ids = rng.integers(0, 20, rng.integers(1, 30, 2)).astype(np.uint8)
        size = tuple(int(n) for n in rng.integers(1, 50, 2))
        # The ATEN script's call: ANTIALIAS (LANCZOS) on a palette
        # prediction, which Pillow carries out as nearest neighbour.
        image = Image.fromarray(ids, mode='P')
        expected = np.asarray(
            image.resize(size[::-1], Image.Resampling.LANCZOS))
        np.testing.assert_array_equal(nearest_resize(ids, size), expected)


def test_video_confusion_matrix_resizes_and_selects_frames():
    gt = np.array([[[0, 1, 1, 1]]], dtype=np.uint8)  # (1, 1, 4), frame 2
    pred = np.zeros((3, 1, 2), dtype=np.uint8)
    pred[2] = [[0, 1]]  # nearest-resized to [[0, 0, 1, 1]]
    pred[0] = 1  # unannotated frames are not scored
    confusion = video_confusion_matrix(gt, pred, 2, [2], 'v')
    np.testing.assert_array_equal(confusion, [[1, 0], [1, 2]])
    with pytest.raises(ValueError, match='v: pred_masks: expected integer'):
        video_confusion_matrix(gt, pred.astype(float), 2, [2], 'v')
    with pytest.raises(ValueError, match='v: frame 2: predicted class 3'):
        video_confusion_matrix(gt, pred + 3, 2, [2], 'v')


def _sample(name, gt, pred, indices=None):
    sample = dict(video_name=name,
                  gt_masks=np.asarray(gt, np.uint8),
                  pred_masks=np.asarray(pred, np.uint8))
    if indices is not None:
        sample['gt_mask_frame_indices'] = np.asarray(indices)
    return sample


def test_metric_pools_one_confusion_matrix_over_videos():
    metric = METRICS.build(
        dict(type='MIoUMetric',
             num_classes=3,
             class_names=['bg', 'head', 'leg']))
    # Video a: 8 pixels of class 0 all right. Video b: 2 pixels of class 1,
    # one predicted as 0.
    metric.process({},
                   [_sample('a', np.zeros((1, 2, 4)), np.zeros((1, 2, 4)))])
    metric.process({}, [_sample('b', [[[1, 1]]], [[[1, 0]]])])
    results = metric.evaluate(2)
    # Pooled: class 0 TP 8, union 9; class 1 TP 1, union 2; class 2 NaN.
    assert results['vip/IoU-bg'] == pytest.approx(8 / 9)
    assert results['vip/IoU-head'] == pytest.approx(1 / 2)
    assert np.isnan(results['vip/IoU-leg'])
    assert results['vip/mIoU'] == pytest.approx((8 / 9 + 1 / 2) / 2)


def test_metric_defaults_and_errors(tmp_path):
    metric = MIoUMetric()
    assert metric.class_names == list(VIP_PART_CLASSES)
    assert MIoUMetric(num_classes=3).class_names == ['0', '1', '2']
    with pytest.raises(ValueError, match='2 class_names for num_classes=3'):
        MIoUMetric(num_classes=3, class_names=['a', 'b'])
    with pytest.raises(ValueError, match='num_classes must be positive'):
        MIoUMetric(num_classes=0)
    with pytest.raises(ValueError, match='format_only=True needs'):
        MIoUMetric(format_only=True)
    with pytest.raises(ValueError, match='no video was processed'):
        metric.compute_metrics([])
    metric = MIoUMetric(format_only=True, output_dir=str(tmp_path))
    metric.process(
        {}, [dict(video_name='p1', pred_masks=np.ones((1, 2, 2), np.uint8))])
    assert metric.evaluate(1) == {}
    np.testing.assert_array_equal(
        read_indexed_png(tmp_path / 'p1' / '00000.png'), np.ones((2, 2)))


def test_histogram_counts_are_numpys_histogram_on_integer_bins():
    # Id C (= 3) falls in numpy's closed last bin [2, 3]; 4 and 255 in none.
    np.testing.assert_array_equal(
        histogram_counts(np.array([0, 1, 2, 3, 3, 4, 255]), 3), [1, 1, 3])
    ids = np.random.default_rng(0).integers(0, 256, (40, 30))
    for num_classes in (1, 3, 20):
        np.testing.assert_array_equal(
            histogram_counts(ids, num_classes),
            np.histogram(ids, bins=np.arange(num_classes + 1))[0])


def test_vfs_counting_differs_from_aten_on_out_of_range_ids():
    # C = 3. Pixels (gt, pred): (0,0) (1,1) (3,2) (255,1) (7,2) (2,2).
    gt = np.array([[0, 1, 3], [255, 7, 2]])
    pred = np.array([[0, 1, 2], [1, 2, 2]])
    # ATEN: only gt in [0, 3) scored -> (0,0) (1,1) (2,2): every IoU 1.
    aten = confusion_matrix(gt, pred, 3)
    assert mean_iou(aten) == 1.0
    # VFS: only gt 255 dropped. Intersection [1, 1, 1]; prediction
    # [1, 1, 3]; ground truth [1, 1, 2] (3 in the last bin, 7 in none);
    # union of class 2: 3 + 2 - 1 = 4 -> IoU 1/4, mIoU (1 + 1 + 1/4) / 3.
    areas = histogram_areas(gt, pred, 3)
    np.testing.assert_array_equal(areas, [[1, 1, 1], [1, 1, 3], [1, 1, 2]])
    np.testing.assert_allclose(iou_from_areas(areas), [1, 1, 0.25])
    with pytest.raises(ValueError, match='c: ground truth of shape'):
        histogram_areas(gt, pred[:, :2], 3, name='c')


def test_vfs_and_aten_agree_on_vip_ids():
    rng = np.random.default_rng(1)
    gt = rng.integers(0, 20, (3, 12, 9))
    gt[rng.random(gt.shape) < 0.1] = 255
    pred = rng.integers(0, 20, gt.shape)
    areas = video_histogram_areas(gt, pred, 20)
    np.testing.assert_allclose(
        iou_from_areas(areas),
        per_class_iou(video_confusion_matrix(gt, pred, 20)))


def test_vfs_pairing_needs_every_frame_annotated():
    gt = np.zeros((2, 2, 2), np.uint8)
    pred = np.zeros((3, 2, 2), np.uint8)
    with pytest.raises(ValueError, match='v: 2 of 3 frames are annotated'):
        video_histogram_areas(gt, pred, 2, [0, 2], 'v')
    with pytest.raises(ValueError, match='v: 2 of 3 frames are annotated'):
        video_histogram_areas(gt, pred, 2, None, 'v')
    np.testing.assert_array_equal(
        video_histogram_areas(gt, pred[:2], 2, [0, 1], 'v'),
        [[8, 0], [8, 0], [8, 0]])
    with pytest.raises(ValueError, match=r'ids must lie in \[0, 255\]'):
        video_histogram_areas(gt, pred[:2].astype(np.int64) + 300, 2)


def test_metric_vfs_protocol():
    with pytest.raises(ValueError, match='protocol must be one of'):
        MIoUMetric(protocol='stt')
    metrics = {
        protocol: MIoUMetric(num_classes=3, protocol=protocol)
        for protocol in ('aten', 'vfs')
    }
    # The hand case above as one video of one frame, frame 0 scored.
    sample = _sample('a', [[[0, 1, 3], [255, 7, 2]]], [[[0, 1, 2], [1, 2, 2]]])
    for metric in metrics.values():
        metric.process({}, [sample])
    assert metrics['aten'].evaluate(1)['vip/mIoU'] == 1.0
    assert metrics['vfs'].evaluate(1)['vip/mIoU'] == pytest.approx(
        (1 + 1 + 0.25) / 3)
    # A partly annotated video is an error for 'vfs', scored by 'aten'.
    partly = _sample('b', np.zeros((1, 2, 2)), np.zeros((2, 2, 2)), [1])
    MIoUMetric(num_classes=3).process({}, [partly])
    with pytest.raises(ValueError, match='b: 1 of 2 frames are annotated'):
        MIoUMetric(num_classes=3, protocol='vfs').process({}, [partly])


def test_vfs_pairing_on_real_sparse_annotations(shared_data):
    """Real judo (16 frames, masks on frames 0, 5, 8, 13): the ATEN
    counting scores the 4 annotated frames; VFS's pairing (frame i with the
    i-th annotation) cannot score the video, as in the official code."""
    register_all_modules()
    dataset = VideoFolderDataset(
        data_root=str(shared_data / 'videos' / 'judo'),
        annotation_coverage='some',
        pipeline=[
            dict(type='LoadVideoFrames'),
            dict(type='LoadVideoAnnotations'),
            dict(type='PackVideoInputs')
        ])
    sample = dataset[0]['data_samples']
    gt = np.asarray(sample.gt_masks)
    indices = np.asarray(sample.gt_mask_frame_indices)
    pred = np.zeros((16, ) + gt.shape[1:], np.uint8)
    pred[indices] = gt
    pred[1] = 4  # an unannotated frame: not scored
    record = dict(video_name='judo', gt_masks=gt, pred_masks=pred,
                  gt_mask_frame_indices=indices)
    aten = MIoUMetric(num_classes=5)
    aten.process({}, [record])
    assert aten.evaluate(1)['vip/mIoU'] == 1.0
    with pytest.raises(ValueError, match='judo: 4 of 16 frames'):
        MIoUMetric(num_classes=5, protocol='vfs').process({}, [record])
