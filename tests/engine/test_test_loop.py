"""``VideoTestLoop.run_iter``: per-video rows when a metric keeps another
number of results than videos, videos a metric cannot score alone, and the
fp16 autocast on the model's device; a stand-in runner and model."""
import logging
import math
import time
from types import SimpleNamespace

import pytest
import torch
from mmengine.evaluator import BaseMetric, Evaluator
from torch import nn

from mmsmtc.engine.runner import VideoTestLoop, video_test_loop
from mmsmtc.engine.runner.test_results import fill_missing_scores
from mmsmtc.structures import VideoDataSample


class ScoreMetric(BaseMetric):
    """Keeps ``per_video`` results ``{'score': s}`` for each video (``s``
    from the sample's ``score``); the mean of a video's alone is its
    number; a negative score cannot be scored."""
    default_prefix = 'toy'

    def __init__(self, per_video=1):
        super().__init__()
        self.per_video = per_video

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            for _ in range(self.per_video):
                self.results.append(dict(score=sample['score']))

    def compute_metrics(self, results):
        scores = [result['score'] for result in results]
        if min(scores) < 0:
            raise ValueError('no object to score')
        return dict(score=sum(scores) / len(scores))


class RecordingModel(nn.Module):
    """Returns one sample per video of the batch; records whether autocast
    was on for the CPU and in which dtype."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))
        self.autocast = []

    def test_step(self, data_batch):
        self.autocast.append((torch.is_autocast_enabled('cpu'),
                              torch.get_autocast_dtype('cpu')))
        return [
            VideoDataSample(metainfo=dict(video_name=name), score=score)
            for name, score in zip(data_batch['names'], data_batch['scores'])
        ]


def make_loop(metrics, fp16=False, num_videos=4):
    loop = object.__new__(VideoTestLoop)
    model = RecordingModel()
    loop._runner = SimpleNamespace(model=model, world_size=1,
                                   call_hook=lambda *args, **kwargs: None)
    loop.evaluator = Evaluator(metrics)
    loop.dataloader = SimpleNamespace(dataset=[None] * num_videos)
    loop.fp16 = fp16
    loop.video_rows = []
    loop._start = time.time()
    loop._unmatched_metrics = set()
    return loop, model


@pytest.fixture
def warnings(monkeypatch):
    """The warnings the loop logs."""
    logged = []

    def record(message, logger=None, level=logging.INFO):
        if level == logging.WARNING:
            logged.append(message)

    monkeypatch.setattr(video_test_loop, 'print_log', record)
    return logged


def batch(*videos):
    return dict(names=[name for name, _ in videos],
                scores=[score for _, score in videos])


def test_one_result_per_video_gives_each_video_its_numbers(warnings):
    loop, _ = make_loop([ScoreMetric()])
    loop.run_iter(0, batch(('a', 0.5), ('b', 1.0)))
    assert loop.video_rows == [dict(video='a', **{'toy/score': 0.5}),
                               dict(video='b', **{'toy/score': 1.0})]


def test_several_results_of_a_single_video_are_all_its_own(warnings):
    loop, _ = make_loop([ScoreMetric(per_video=3)])
    loop.run_iter(0, batch(('a', 0.25)))
    assert loop.video_rows == [dict(video='a', **{'toy/score': 0.25})]
    assert warnings == []


def test_unmatched_results_in_a_batch_of_videos_are_logged_once(warnings):
    loop, _ = make_loop([ScoreMetric(per_video=2)])
    loop.run_iter(0, batch(('a', 0.5), ('b', 1.0)))
    loop.run_iter(1, batch(('c', 0.5), ('d', 1.0)))
    assert loop.video_rows == [dict(video=name) for name in 'abcd']
    assert warnings == [
        'ScoreMetric kept 4 results for a batch of 2 videos: it gets no '
        'per-video numbers (its pooled numbers are not affected; a test '
        'batch size of 1 gives them)'
    ]


def test_video_a_metric_cannot_score_alone_is_nan(warnings):
    loop, _ = make_loop([ScoreMetric()])
    loop.run_iter(0, batch(('a', 0.5), ('empty', -1.0)))
    assert warnings == [
        'video empty: ScoreMetric cannot score it on its own (no object to '
        'score); its per-video numbers are NaN, the pooled numbers include '
        'it'
    ]
    rows = fill_missing_scores(loop.video_rows)
    assert rows[0] == dict(video='a', **{'toy/score': 0.5})
    assert rows[1]['video'] == 'empty'
    assert math.isnan(rows[1]['toy/score'])


@pytest.mark.parametrize('fp16', [False, True])
def test_fp16_autocasts_on_the_model_device(fp16, warnings):
    loop, model = make_loop([ScoreMetric()], fp16=fp16)
    loop.run_iter(0, batch(('a', 0.5)))
    enabled, dtype = model.autocast[0]
    assert enabled is fp16
    if fp16:
        assert dtype == torch.bfloat16  # MMEngine's autocast on the CPU
    assert loop._device() == torch.device('cpu')


def test_fill_missing_scores_keeps_the_column_order():
    rows = fill_missing_scores([dict(video='a'), dict(video='b', x=1.0,
                                                      y=2.0)])
    assert [list(row) for row in rows] == [['video', 'x', 'y']] * 2
    assert math.isnan(rows[0]['x']) and rows[1]['y'] == 2.0
