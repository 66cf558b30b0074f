"""Test a video model: ``python tools/test.py CONFIG CHECKPOINT [options]``.

CHECKPOINT is a trained mmsmtc checkpoint, or ``none`` to test the model as
its config initialises it (e.g. a DINO backbone loaded through its
``init_cfg``: the label-propagation baselines need no training). A checkpoint
of another backbone than the config's is refused with the mismatching
tensors named. The test runs in :class:`mmsmtc.engine.VideoTestLoop`; a
config's ``load_from`` is not used (CHECKPOINT is what is tested).

Predictions are written in each benchmark's official layout to
``WORK_DIR/predictions`` (DAVIS-style ``<video>/<frame>.png`` indexed PNGs,
``<video>.npy`` keypoints for JHMDB); ``results.json``, ``per_video.csv`` and
the resolved ``config.py`` go to ``WORK_DIR/<timestamp>/``. The work
directory is ``--work-dir`` > ``work_dir`` in the config >
``work_dirs/<config name>``.

``--seed`` seeds the run (``randomness.seed``) and the segmentor's per-video
test-time randomness (``model.test_seed``: the same numbers for a video
whatever the video order, number of processes or device). A missing file, a
checkpoint of another architecture or a config error prints one line
``error: ...`` and exits with status 1; usage errors exit with status 2.
"""
import os

# Before any import that loads torch: libgomp reads its spin count once, at
# load (mmsmtc/utils/cpu_threads.py says why; a user's setting is kept).
if not {'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT'} & set(os.environ):
    os.environ['GOMP_SPINCOUNT'] = '3000'

import argparse
import logging
import os.path as osp

from mmengine.config import Config
from mmengine.logging import print_log

from mmsmtc.engine import VideoRunner
from mmsmtc.engine.runner import VideoTestLoop
from mmsmtc.models.segmentors import BaseVideoSegmentor
from mmsmtc.registry import LOOPS, MODELS
from mmsmtc.utils import keep_freed_host_memory, register_all_modules
from mmsmtc.utils.launch import (add_launch_args, check_launch_args,
                                 destroy_process_group, init_cpu_process_group,
                                 load_launch_config, place_model, run_cli,
                                 select_device)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test an mmsmtc model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint', help="checkpoint file, or 'none' for the model as its "
        'config initialises it')
    parser.add_argument(
        '--dump', help='also pickle every prediction data sample to this '
        'file (.pkl)')
    parser.add_argument(
        '--show-dir', help='write frames with the predictions drawn over '
        'them to this directory')
    parser.add_argument(
        '--amp', action='store_true',
        help='test under automatic mixed precision (test_cfg.fp16): float16 '
        'on CUDA, bfloat16 on the CPU')
    add_launch_args(parser)
    args = parser.parse_args(argv)
    check_launch_args(parser, args)
    if args.dump is not None and not args.dump.endswith(('.pkl', '.pickle')):
        parser.error(f'--dump {args.dump}: the file must be .pkl')
    return args


def _evaluator_list(cfg: Config) -> list:
    evaluator = cfg.test_evaluator
    return list(evaluator) if isinstance(evaluator, (list, tuple)) \
        else [evaluator]


def video_test_cfg(cfg: Config, checkpoint, fp16: bool) -> dict:
    """The config's ``test_cfg`` for a :class:`VideoTestLoop` testing
    ``checkpoint``.

    Raises:
        ValueError: If ``test_cfg.type`` is another loop.
    """
    test_cfg = dict(cfg.get('test_cfg') or {})
    loop_type = test_cfg.setdefault('type', 'VideoTestLoop')
    loop = loop_type if isinstance(loop_type, type) else LOOPS.get(loop_type)
    if loop is None or not issubclass(loop, VideoTestLoop):
        raise ValueError(
            f'{cfg.filename}: test_cfg.type={loop_type!r}: tools/test.py '
            'runs a VideoTestLoop (CHECKPOINT, per-video results); remove '
            'test_cfg.type or set it to VideoTestLoop')
    test_cfg['checkpoint'] = checkpoint
    if fp16:
        test_cfg['fp16'] = True
    return test_cfg


def set_test_seed(cfg: Config, seed: int) -> None:
    """Make ``seed`` the segmentor's ``test_seed`` (its per-video test-time
    randomness); log it when the model has none."""
    model_type = cfg.model.get('type')
    model = model_type if isinstance(model_type, type) else \
        MODELS.get(model_type)
    if model is not None and issubclass(model, BaseVideoSegmentor):
        cfg.model.test_seed = seed
    else:
        print_log(f'--seed {seed}: {model_type} draws no per-video '
                  'test-time randomness (not a BaseVideoSegmentor); only '
                  'randomness.seed is set', logger='current',
                  level=logging.WARNING)


def build_config(args) -> Config:
    cfg = load_launch_config(args)
    checkpoint = None if args.checkpoint.lower() == 'none' \
        else args.checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist '
                                "(pass 'none' to test without one)")
    if cfg.get('load_from'):
        print_log(f'load_from={cfg.load_from} is not used: tools/test.py '
                  f'tests CHECKPOINT ({args.checkpoint})', logger='current',
                  level=logging.WARNING)
    cfg.load_from = None
    cfg.test_cfg = video_test_cfg(cfg, checkpoint, args.amp)
    if args.seed is not None:
        set_test_seed(cfg, args.seed)
    evaluators = _evaluator_list(cfg)
    for metric in evaluators:
        if metric.get('output_dir') is None:
            metric['output_dir'] = osp.join(cfg.work_dir, 'predictions')
    if args.dump is not None:
        evaluators.append(dict(type='DumpResults', out_file_path=args.dump))
    cfg.test_evaluator = evaluators
    if args.show_dir is not None:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='VideoOverlayHook', out_dir=args.show_dir)
        ]
    return cfg


def main(argv=None):
    args = parse_args(argv)
    keep_freed_host_memory()
    register_all_modules(init_default_scope=False)
    cfg = build_config(args)
    select_device(args.device, cfg.launcher)
    init_cpu_process_group(cfg)
    runner = VideoRunner.from_cfg(cfg)
    place_model(runner, args.device)
    runner.test()
    destroy_process_group()


if __name__ == '__main__':
    run_cli(main)
