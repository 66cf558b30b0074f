"""DAVISMetric: per-video reduction, format_only output and input errors."""
import numpy as np
import pytest
import torch

from mmsmtc.evaluation import DAVISMetric
from mmsmtc.evaluation.functional import evaluate_sequence, global_statistics
from mmsmtc.registry import METRICS
from mmsmtc.structures.video_data_sample import VideoDataSample
from mmsmtc.utils import read_indexed_png


def _video(num_frames=4, shape=(10, 14), shift=1):
    """``(gt, pred)``: two moving boxes and the same shifted by ``shift``."""
    gt = np.zeros((num_frames, *shape), np.uint8)
    for index in range(num_frames):
        gt[index, 1:4, index + 1:index + 5] = 1
        gt[index, 5:9, index + 6:index + 9] = 2
    return gt, np.roll(gt, shift, axis=2)


def _sample(name, gt, pred, **extra):
    return dict(video_name=name,
                frame_names=[f'{index:05d}' for index in range(len(pred))],
                gt_masks=gt,
                pred_masks=pred,
                **extra)


@pytest.mark.parametrize('task', ['semi-supervised', 'unsupervised'])
def test_metric_equals_functional_evaluation(task):
    gt, pred = _video()
    metric = METRICS.build(dict(type='DAVISMetric', task=task))
    # The second video comes first: results are ordered by video name.
    metric.process({}, [_sample('b', list(gt), pred)])
    metric.process({}, [_sample('a', torch.from_numpy(gt), pred)])
    computed = metric.compute_metrics(metric.results)
    frames = slice(1, -1) if task == 'semi-supervised' else slice(None)
    per_object = {}
    for name in ('a', 'b'):
        per_object.update(
            evaluate_sequence(task, name, gt[frames], pred[frames], 2))
    assert computed == global_statistics(per_object)
    assert metric.results[0]['per_object'].keys() == {'b_1', 'b_2'}


def test_metric_accepts_data_elements_and_frame_indices():
    gt, pred = _video(num_frames=6)
    sample = VideoDataSample(
        metainfo=dict(video_name='v', frame_names=[str(i) for i in range(6)]))
    sample.gt_masks = gt[[0, 2, 3, 5]]
    sample.gt_mask_frame_indices = np.array([0, 2, 3, 5])
    sample.pred_masks = pred
    metric = DAVISMetric(task='unsupervised')
    metric.process({}, [sample])
    expected = evaluate_sequence('unsupervised', 'v', gt[[0, 2, 3, 5]],
                                 pred[[0, 2, 3, 5]])
    assert metric.results[0]['per_object'] == expected


def test_format_only_writes_official_layout(tmp_path):
    gt, pred = _video()
    metric = DAVISMetric(format_only=True, output_dir=str(tmp_path))
    metric.process({}, [_sample('cows', None, pred)])
    assert metric.compute_metrics(metric.results) == {}
    written = sorted((tmp_path / 'cows').glob('*.png'))
    assert [path.stem
            for path in written] == ['00000', '00001', '00002', '00003']
    np.testing.assert_array_equal(read_indexed_png(written[2]), pred[2])


def test_metric_errors():
    gt, pred = _video()
    with pytest.raises(ValueError, match='task must be'):
        DAVISMetric(task='supervised')
    with pytest.raises(ValueError, match='needs an output_dir'):
        DAVISMetric(format_only=True)
    metric = DAVISMetric(task='semi-supervised')
    with pytest.raises(KeyError, match="v: the data sample has no ground"):
        metric.process({}, [_sample('v', None, pred)])
    with pytest.raises(ValueError, match='at least 3, got 2'):
        metric.process({}, [_sample('v', gt[:2], pred[:2])])
    too_many = pred.copy()
    too_many[1, 0, 0] = 3
    with pytest.raises(ValueError, match='v: predicted id 3 exceeds the 2'):
        metric.process({}, [_sample('v', gt, too_many)])
    too_many[0, 0, 0] = 3  # first and last frames are not scored
    too_many[1, 0, 0] = 0
    metric.process({}, [_sample('v', gt, too_many)])
    with pytest.raises(ValueError, match='gt_masks frame 0 has shape'):
        metric.process({}, [_sample('v', [gt], pred)])
    with pytest.raises(ValueError, match=r'v: frame 0: expected \(H, W\)'):
        metric.process({}, [_sample('v', gt[:, :, :-1], pred)])
    unsupervised = DAVISMetric(task='unsupervised')
    proposals = pred.copy()
    proposals[2, 0, 0] = 21
    with pytest.raises(ValueError, match='id 21 exceeds the 20 proposals'):
        unsupervised.process({}, [_sample('v', gt, proposals)])
