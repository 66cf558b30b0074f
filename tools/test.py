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
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmsmtc.engine.checkpoint import UNSAFE_ENV_VAR
from mmsmtc.utils import register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Test an mmsmtc model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint', help="checkpoint file, or 'none' for the model as its "
        'config initialises it')
    parser.add_argument('--work-dir', help='directory for predictions, logs '
                        'and result files')
    parser.add_argument(
        '--dump', help='also pickle every prediction data sample to this '
        'file (.pkl)')
    parser.add_argument(
        '--show-dir', help='write frames with the predictions drawn over '
        'them to this directory')
    parser.add_argument(
        '--allow-unsafe-checkpoints', action='store_true',
        help='unpickle arbitrary objects in checkpoints (trusted files only)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. model.propagator.topk=10')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def _evaluator_list(cfg: Config) -> list:
    evaluator = cfg.test_evaluator
    return list(evaluator) if isinstance(evaluator, (list, tuple)) \
        else [evaluator]


def build_config(args) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.launcher != 'none' and not torch.cuda.is_available():
        # CPU-only processes: gloo collectives, DDP without device ids.
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        cfg.model_wrapper_cfg = dict(
            cfg.get('model_wrapper_cfg') or {}, device_ids=None)
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


def init_cpu_process_group(cfg: Config) -> None:
    """Start the gloo process group on a machine without CUDA.

    MMEngine's ``pytorch`` launcher calls ``torch.cuda.set_device``, which
    fails without a GPU; the Runner skips its own initialisation when the
    group already exists.
    """
    if cfg.launcher == 'pytorch' and not torch.cuda.is_available() and \
            not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend='gloo')


def main():
    args = parse_args()
    if args.allow_unsafe_checkpoints:
        os.environ[UNSAFE_ENV_VAR] = '1'
    register_all_modules(init_default_scope=False)
    cfg = build_config(args)
    init_cpu_process_group(cfg)
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
