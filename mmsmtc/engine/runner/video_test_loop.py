"""A test loop over whole videos that reports and saves per-video numbers."""
import datetime
import itertools
import logging
import time
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.dist import collect_results, get_rank, is_main_process
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop
from mmengine.runner.amp import autocast
from torch.utils.data import DataLoader

from mmsmtc.registry import LOOPS
from mmsmtc.utils import git_revision
from .test_results import (fill_missing_scores, format_table, video_scores,
                           write_test_results)


@LOOPS.register_module()
class VideoTestLoop(TestLoop):
    """``TestLoop`` for one whole video per sample.

    On top of MMEngine's loop:

    * weights: with ``checkpoint`` the model's ``load_test_checkpoint``
      loads it strictly (a checkpoint of another backbone is a clear
      error); without it, ``init_weights`` runs the model's own
      initialisation (e.g. DINO weights through the backbone's
      ``Pretrained`` ``init_cfg``) -- MMEngine runs it only when training.
    * progress: ``video i/N <name>: <numbers>, eta`` after each video
      (``i/N`` counts this rank's share).
    * per-video numbers: each metric's ``compute_metrics`` on the new
      per-video statistics (see :func:`video_scores`), gathered across
      ranks on the CPU; rank 0 prints the table and writes
      ``results.json`` (metrics, per-video rows and the settings: config,
      checkpoint, device, fp16, git revision, model/dataset/evaluator
      configs), ``per_video.csv`` and the resolved ``config.py`` into
      ``results_dir`` (default: the run's ``log_dir``).
    * a video that a metric cannot score on its own (``compute_metrics``
      raises ``ValueError``: no ground-truth object, a joint never visible)
      gets NaN for that metric's numbers and a warning; the official,
      pooled numbers include it. A metric that keeps another number of
      results than videos in a batch of several videos gets no per-video
      numbers, with a warning (with one video per batch, every new result
      is that video's).
    * ``fp16``: autocast on the model's device (float16 on CUDA, bfloat16
      on the CPU, as MMEngine's ``autocast``).

    Args:
        runner, dataloader, evaluator, fp16: See ``TestLoop``.
        checkpoint (str, optional): A trained checkpoint, or None.
        results_dir (str, optional): Where to write the result files.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 checkpoint: Optional[str] = None,
                 results_dir: Optional[str] = None) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.checkpoint = checkpoint
        self.results_dir = results_dir
        self.video_rows: List[dict] = []
        self._start = time.time()
        self._unmatched_metrics: set = set()

    def _prepare_weights(self) -> None:
        model = self.runner.model
        if is_model_wrapper(model):
            model = model.module
        if self.checkpoint is None:
            print_log('no checkpoint: testing the model as initialised by '
                      'its config (init_cfg)', logger='current')
            model.init_weights()
            return
        if not hasattr(model, 'load_test_checkpoint'):
            raise TypeError(f'{type(model).__name__} has no '
                            'load_test_checkpoint(path); test it with '
                            'load_from instead of checkpoint')
        model.load_test_checkpoint(self.checkpoint)
        print_log(f'loaded {self.checkpoint}', logger='current')

    def run(self) -> dict:
        """Test every video; returns the official metrics."""
        self._prepare_weights()
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        self.video_rows = []
        self._start = time.time()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        rows = collect_results(self.video_rows,
                               len(self.dataloader.dataset), 'cpu')
        if is_main_process():
            self._report(metrics, rows)
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    def _device(self) -> torch.device:
        """The device of the model's first parameter or buffer (the CPU for
        a model without any)."""
        model = self.runner.model
        first = next(itertools.chain(model.parameters(), model.buffers()),
                     None)
        return torch.device('cpu') if first is None else first.device

    @torch.no_grad()
    def run_iter(self, idx: int, data_batch: dict) -> None:
        """Predict and evaluate one batch of videos; log the progress."""
        self.runner.call_hook(
            'before_test_iter', batch_idx=idx, data_batch=data_batch)
        with autocast(device_type=self._device().type, enabled=self.fp16):
            outputs = self.runner.model.test_step(data_batch)
        metrics = self.evaluator.metrics
        seen = [len(metric.results) for metric in metrics]
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        new = [metric.results[start:] for metric, start in zip(metrics, seen)]
        for position, sample in enumerate(outputs):
            name = sample.metainfo.get('video_name', str(idx))
            row = {'video': name}
            for metric, results in zip(metrics, new):
                own = self._video_results(metric, results, position,
                                          len(outputs))
                row.update(self._video_scores(metric, own, name))
            self.video_rows.append(row)
            self._log_progress(row)
        self.runner.call_hook(
            'after_test_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)

    def _video_results(self, metric, results: list, position: int,
                       batch_size: int) -> list:
        """The results ``metric`` kept for the video at ``position`` of a
        batch of ``batch_size`` videos."""
        if len(results) == batch_size:
            return results[position:position + 1]
        if batch_size == 1:
            return results
        name = type(metric).__name__
        if name not in self._unmatched_metrics:
            self._unmatched_metrics.add(name)
            print_log(
                f'{name} kept {len(results)} results for a batch of '
                f'{batch_size} videos: it gets no per-video numbers (its '
                'pooled numbers are not affected; a test batch size of 1 '
                'gives them)', logger='current', level=logging.WARNING)
        return []

    @staticmethod
    def _video_scores(metric, results: list, video: str) -> dict:
        """:func:`video_scores`, or nothing (NaN in the table) with a
        warning when the metric cannot score the video on its own."""
        try:
            return video_scores(metric, results)
        except ValueError as error:
            print_log(
                f'video {video}: {type(metric).__name__} cannot score it on '
                f'its own ({error}); its per-video numbers are NaN, the '
                'pooled numbers include it', logger='current',
                level=logging.WARNING)
            return {}

    def _log_progress(self, row: dict) -> None:
        done, total = len(self.video_rows), len(self.dataloader.dataset)
        total = -(-total // self.runner.world_size)
        elapsed = time.time() - self._start
        eta = datetime.timedelta(
            seconds=round(elapsed / done * max(total - done, 0)))
        scores = ', '.join(f'{key.split("/")[-1]} {value:.4f}'
                           for key, value in list(row.items())[1:4])
        rank = f'[rank {get_rank()}] ' if self.runner.world_size > 1 else ''
        print_log(f'{rank}video {done}/{total} {row["video"]}'
                  f'{": " + scores if scores else ""}, eta {eta}',
                  logger='current')

    def _report(self, metrics: dict, rows: Sequence[dict]) -> None:
        out_dir = self.results_dir or self.runner.log_dir
        cfg = self.runner.cfg
        rows = fill_missing_scores(rows)
        settings = dict(
            config=cfg.filename,
            checkpoint=self.checkpoint,
            device=str(self._device()),
            fp16=self.fp16,
            git_revision=git_revision(),
            world_size=self.runner.world_size,
            resolved_config='config.py',
            model=cfg.to_dict().get('model'),
            dataset=cfg.to_dict().get('test_dataloader', {}).get('dataset'),
            evaluator=cfg.to_dict().get('test_evaluator'))
        paths = write_test_results(out_dir, metrics, rows, settings)
        cfg.dump(str(paths['json'].parent / 'config.py'))
        print_log(
            'per-video results:\n' + format_table(
                list(rows) + [dict(video='ALL', **metrics)]),
            logger='current')
        print_log(f'results written to {paths["json"]} and {paths["csv"]}',
                  logger='current')
