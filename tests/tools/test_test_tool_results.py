"""Result files and per-video numbers of the video test loop."""
import csv
import json

import numpy as np
import pytest
from mmengine.evaluator import DumpResults

from mmsmtc.engine.runner import (OVERALL_ROW, format_table, video_scores,
                                  write_test_results)
from mmsmtc.evaluation import MIoUMetric, PCKMetric


def test_video_scores_reduce_one_video_with_the_metric():
    metric = PCKMetric(alphas=(0.1, ))
    metric.results = [dict(hits=np.array([[1, 3]]), totals=np.array([2, 4]))]
    scores = video_scores(metric, metric.results)
    assert scores == {'jhmdb/PCK@0.1': pytest.approx((0.5 + 0.75) / 2)}
    assert video_scores(metric, []) == {}
    assert video_scores(DumpResults(out_file_path='x.pkl'), [{}]) == {}


def test_files_hold_rows_overall_and_settings(tmp_path):
    metric = MIoUMetric(num_classes=2, class_names=['bg', 'fg'])
    # One video: 3 background pixels, all right (intersection, prediction
    # and ground-truth areas per class).
    areas = np.array([[3, 0], [3, 0], [3, 0]])
    scores = video_scores(metric, [dict(areas=areas)])
    rows = [dict(video='a', **scores)]
    assert np.isnan(rows[0]['vip/IoU-fg'])
    paths = write_test_results(tmp_path, {'vip/mIoU': 0.75}, rows,
                               dict(config='c.py', checkpoint=None))
    summary = json.loads(paths['json'].read_text())
    assert summary['per_video'][0]['vip/IoU-fg'] is None
    assert summary['settings'] == dict(config='c.py', checkpoint=None)
    with open(paths['csv']) as file:
        table = list(csv.DictReader(file))
    assert [row['video'] for row in table] == ['a', OVERALL_ROW]
    assert float(table[0]['vip/mIoU']) == pytest.approx(1.0)
    assert float(table[1]['vip/mIoU']) == pytest.approx(0.75)
    assert table[1]['vip/IoU-bg'] == ''


def test_format_table_aligns_columns():
    text = format_table([dict(video='a', score=0.5),
                         dict(video='long-name', score=float('nan'))])
    lines = text.splitlines()
    assert lines[0].split() == ['video', 'score']
    assert lines[2].split() == ['a', '0.5000']
    assert lines[3].split() == ['long-name', 'nan']
    assert len({line.index(line.split()[1]) for line in lines[2:]}) == 1


def test_loop_refuses_a_checkpoint_for_a_model_without_loader():
    from types import SimpleNamespace

    from torch import nn

    from mmsmtc.engine.runner import VideoTestLoop
    loop = object.__new__(VideoTestLoop)
    loop._runner = SimpleNamespace(model=nn.Linear(1, 1))
    loop.checkpoint = 'trained.pth'
    with pytest.raises(TypeError, match='Linear has no load_test_checkpoint'):
        loop._prepare_weights()
