"""Train a model from a config: ``python tools/train.py CONFIG [options]``.

The work directory is chosen as: ``--work-dir`` > ``work_dir`` in the config
> ``work_dirs/<config name>``. The resolved config is saved there.
"""
import os

# Before any import that loads torch: libgomp reads its spin count once, at
# load (mmsmtc/utils/cpu_threads.py says why; a user's setting is kept).
if not {'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT'} & set(os.environ):
    os.environ['GOMP_SPINCOUNT'] = '3000'

import argparse

from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from mmsmtc.models.segmentors import load_strict
from mmsmtc.utils import (collect_env, keep_freed_host_memory,
                           register_all_modules)
from mmsmtc.utils.launch import (add_launch_args, init_cpu_process_group,
                                 load_launch_config)


def parse_args():
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
    return parser.parse_args()


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


class FittingCheckpointRunner(Runner):
    """A Runner whose ``load_from`` / ``--resume`` checkpoint must fit.

    MMEngine loads with ``strict=False`` and only logs missing or differently
    shaped weights, so a checkpoint of another architecture would silently
    train from scratch. Here every tensor of the model must be in the file
    with its shape, else a ``CheckpointError`` names the file and the first
    mismatching tensors; extra entries are logged.
    """

    def load_checkpoint(self, filename: str, *args, **kwargs) -> dict:
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        checkpoint = _load_checkpoint(filename, map_location='cpu')
        state = checkpoint.get('state_dict', checkpoint)
        state = {key.removeprefix('module.'): value
                 for key, value in state.items()}
        load_strict(model, state, filename, f'model ({type(model).__name__})')
        return super().load_checkpoint(filename, *args, **kwargs)


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


def main():
    args = parse_args()
    keep_freed_host_memory()
    register_all_modules(init_default_scope=False)
    cfg = build_config(args)
    init_cpu_process_group(cfg)
    runner = FittingCheckpointRunner.from_cfg(cfg)
    print_log('mmsmtc ' + collect_env()['mmsmtc'], logger='current')
    log_batch_and_lr(runner, cfg)
    runner.train()


if __name__ == '__main__':
    main()
