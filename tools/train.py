"""Train a model from a config: ``python tools/train.py CONFIG [options]``.

The work directory is chosen as: ``--work-dir`` > ``work_dir`` in the config
> ``work_dirs/<config name>``. The resolved config is saved there. A
``load_from`` / ``--resume`` checkpoint must fit the model
(:class:`mmsmtc.engine.VideoRunner`). A missing file, a checkpoint of another
architecture or a config error prints one line ``error: ...`` and exits with
status 1; usage errors exit with status 2.
"""
import os

# Before any import that loads torch: libgomp reads its spin count once, at
# load (mmsmtc/utils/cpu_threads.py says why; a user's setting is kept).
if not {'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT'} & set(os.environ):
    os.environ['GOMP_SPINCOUNT'] = '3000'

import argparse

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmsmtc.engine import VideoRunner
from mmsmtc.utils import (collect_env, keep_freed_host_memory,
                          register_all_modules)
from mmsmtc.utils.launch import (add_launch_args, check_launch_args,
                                 destroy_process_group, init_cpu_process_group,
                                 load_launch_config, place_model, run_cli,
                                 select_device)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train an mmsmtc model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None,
        help='resume from CKPT, or from the latest checkpoint in the work '
        'directory when no path is given')
    parser.add_argument(
        '--amp', action='store_true',
        help='automatic mixed precision (needs a CUDA device)')
    add_launch_args(parser)
    args = parser.parse_args(argv)
    check_launch_args(parser, args)
    if args.amp and args.device == 'cpu':
        parser.error('--amp needs a CUDA device, not --device cpu')
    return args


def build_config(args) -> Config:
    cfg = load_launch_config(args)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def log_batch_and_lr(runner: Runner, cfg: Config) -> None:
    """Print the global batch size and the learning-rate scaling rule."""
    per_gpu = cfg.train_dataloader.batch_size
    world = runner.world_size
    message = (f'global batch size {world} x {per_gpu} = {world * per_gpu}')
    scale_cfg = cfg.get('auto_scale_lr')
    if scale_cfg is not None:
        base = scale_cfg['base_batch_size']
        factor = world * per_gpu / base
        state = 'applied' if scale_cfg.get('enable', False) else \
            'not applied (auto_scale_lr.enable=False)'
        message += (f'; config written for {base}: linear lr scaling factor '
                    f'{factor:g} {state}')
    print_log(message, logger='current')


def main(argv=None):
    args = parse_args(argv)
    keep_freed_host_memory()
    register_all_modules(init_default_scope=False)
    cfg = build_config(args)
    select_device(args.device, cfg.launcher)
    if args.amp and not torch.cuda.is_available():
        raise ValueError('--amp needs a CUDA device; CUDA is not available '
                         'here')
    init_cpu_process_group(cfg)
    runner = VideoRunner.from_cfg(cfg)
    place_model(runner, args.device)
    print_log('mmsmtc ' + collect_env()['mmsmtc'], logger='current')
    log_batch_and_lr(runner, cfg)
    runner.train()
    destroy_process_group()


if __name__ == '__main__':
    run_cli(main)
