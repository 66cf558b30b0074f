"""Steps ``tools/train.py`` and ``tools/test.py`` share to set up a run."""
import os
import os.path as osp
from argparse import ArgumentParser, Namespace

import torch
from mmengine.config import Config, DictAction

from mmsmtc.engine.checkpoint import UNSAFE_ENV_VAR


def add_launch_args(parser: ArgumentParser) -> None:
    """Add ``--work-dir``, ``--allow-unsafe-checkpoints``, ``--cfg-options``,
    ``--launcher`` and ``--local-rank`` to a tool's parser."""
    parser.add_argument('--work-dir', help='directory for logs and outputs')
    parser.add_argument(
        '--allow-unsafe-checkpoints', action='store_true',
        help='unpickle arbitrary objects in checkpoints (trusted files only)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config settings, e.g. train_cfg.max_iters=100')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_launch_config(args: Namespace) -> Config:
    """The tool's config with the shared command-line settings applied.

    The work directory is ``--work-dir`` > ``work_dir`` in the config >
    ``work_dirs/<config name>``. Without CUDA, distributed processes use gloo
    and a DDP wrapper without device ids. ``--allow-unsafe-checkpoints``
    opts in to unpickling arbitrary objects for this process and its
    children.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.allow_unsafe_checkpoints:
        os.environ[UNSAFE_ENV_VAR] = '1'
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
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        cfg.model_wrapper_cfg = dict(
            cfg.get('model_wrapper_cfg')
            or dict(type='MMDistributedDataParallel'),
            device_ids=None)
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
