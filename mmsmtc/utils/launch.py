"""Steps the tools share to set up a run: ``tools/train.py`` and
``tools/test.py`` (launch arguments, work directory, CPU process group), the
demos in ``tools/demo/`` (video arguments, output folder)."""
import os
import os.path as osp
from argparse import ArgumentParser, Namespace
from pathlib import Path

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger

from .checkpoint import UNSAFE_ENV_VAR


def add_demo_args(parser: ArgumentParser, config_help: str) -> None:
    """Add the arguments of the demos on a user's video: ``video``,
    ``--config`` (described by ``config_help``), ``--checkpoint``, ``--out``,
    ``--device``, ``--seed``, ``--max-frames`` and ``--max-side``."""
    parser.add_argument('video', help='mp4/avi file or folder of frames')
    parser.add_argument('--config', required=True, help=config_help)
    parser.add_argument('--checkpoint', required=True,
                        help="trained checkpoint, or 'none'")
    parser.add_argument('--out', help='output folder (default: '
                        'work_dirs/demo/<video name>)')
    parser.add_argument('--device', help='cpu, cuda, cuda:1... (default: '
                        'cuda if available)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random generators (default: 0)')
    parser.add_argument('--max-frames', type=int,
                        help='only the first N frames')
    parser.add_argument('--max-side', type=int,
                        help='downscale frames so no side exceeds N pixels')


def prepare_demo_output(out: str, name: str) -> Path:
    """Create the demo's output folder (``out``, or
    ``work_dirs/demo/<name>``) and send MMEngine's log there (``demo.log``:
    weight-initialisation details stay off the terminal)."""
    out_dir = Path(out or Path('work_dirs', 'demo', name))
    out_dir.mkdir(parents=True, exist_ok=True)
    MMLogger.get_instance('mmsmtc_demo', log_file=str(out_dir / 'demo.log'))
    return out_dir


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
