"""Test a video model: ``python tools/test.py CONFIG CHECKPOINT [options]``.

CHECKPOINT is a trained mmsmtc checkpoint, or ``none`` to test the model as
its config initialises it (e.g. a DINO backbone loaded through its
``init_cfg``: the label-propagation baselines need no training). A checkpoint
of another backbone than the config's is refused with the mismatching
tensors named.

Predictions are written in each benchmark's official layout to
``WORK_DIR/predictions`` (DAVIS-style ``<video>/<frame>.png`` indexed PNGs,
``<video>.npy`` keypoints for JHMDB); ``results.json``, ``per_video.csv`` and
the resolved ``config.py`` go to ``WORK_DIR/<timestamp>/``. The work
directory is ``--work-dir`` > ``work_dir`` in the config >
``work_dirs/<config name>``.
"""
import os

# Before any import that loads torch: libgomp reads its spin count once, at
# load (mmsmtc/utils/cpu_threads.py says why; a user's setting is kept).
if not {'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT'} & set(os.environ):
    os.environ['GOMP_SPINCOUNT'] = '3000'

import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

from mmsmtc.utils import keep_freed_host_memory, register_all_modules
from mmsmtc.utils.launch import (add_launch_args, init_cpu_process_group,
                                 load_launch_config)


def parse_args():
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
    add_launch_args(parser)
    return parser.parse_args()


def _evaluator_list(cfg: Config) -> list:
    evaluator = cfg.test_evaluator
    return list(evaluator) if isinstance(evaluator, (list, tuple)) \
        else [evaluator]


def build_config(args) -> Config:
    cfg = load_launch_config(args)
    checkpoint = None if args.checkpoint.lower() == 'none' \
        else args.checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist '
                                "(pass 'none' to test without one)")
    cfg.load_from = None
    cfg.test_cfg = dict(
        cfg.get('test_cfg') or {}, type='VideoTestLoop',
        checkpoint=checkpoint)
    evaluators = _evaluator_list(cfg)
    for metric in evaluators:
        if metric.get('output_dir') is None:
            metric['output_dir'] = osp.join(cfg.work_dir, 'predictions')
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump {args.dump}: the file must be .pkl')
        evaluators.append(dict(type='DumpResults', out_file_path=args.dump))
    cfg.test_evaluator = evaluators
    if args.show_dir is not None:
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(type='VideoOverlayHook', out_dir=args.show_dir)
        ]
    return cfg


def main():
    args = parse_args()
    keep_freed_host_memory()
    register_all_modules(init_default_scope=False)
    cfg = build_config(args)
    init_cpu_process_group(cfg)
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
