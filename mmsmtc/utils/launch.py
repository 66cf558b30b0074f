"""Steps the tools share to set up a run: the error handling of every tool's
``__main__`` (:func:`run_cli`); ``tools/train.py`` and ``tools/test.py``
(launch arguments, seed, device, work directory, the CPU process group and
the shutdown of any process group); the demos in ``tools/demo/`` (video
arguments, output folder)."""
import os
import os.path as osp
import re
import sys
from argparse import (ArgumentError, ArgumentParser, ArgumentTypeError,
                      Namespace)
from pathlib import Path
from typing import Callable, NoReturn, Optional, Tuple, Type

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger, print_log

from .checkpoint import UNSAFE_ENV_VAR

#: Exceptions that report a user's mistake rather than a bug: a file that is
#: missing or cannot be read or written (``OSError``), a config, checkpoint
#: or input that does not fit (``ValueError``, ``CheckpointError`` among
#: them), a config naming an unknown type (the registry's ``KeyError``) or
#: an unknown argument (``TypeError``), a config with a syntax error.
USER_ERRORS: Tuple[Type[BaseException], ...] = (OSError, ValueError,
                                                KeyError, TypeError,
                                                SyntaxError)
#: Set to 1 to see the traceback of a user error instead of its one line.
TRACEBACK_ENV_VAR = 'MMSMTC_TRACEBACK'
#: What ``--device`` accepts.
DEVICE_PATTERN = re.compile(r'cpu|cuda(:\d+)?')


def error_message(error: BaseException) -> str:
    """The message of ``error`` for ``error: ...``: an ``OSError`` of the
    system as ``<file>: <reason>``, a ``KeyError`` without its quotes."""
    if isinstance(error, OSError) and error.filename is not None \
            and error.strerror:
        message = f'{error.filename}: {error.strerror}'
    elif isinstance(error, KeyError) and len(error.args) == 1:
        message = str(error.args[0])
    else:
        message = str(error)
    return message or type(error).__name__


def run_cli(main: Callable[[], Optional[int]],
            user_errors: Tuple[Type[BaseException], ...] = USER_ERRORS
            ) -> NoReturn:
    """Run a tool's ``main`` and exit with its status (None counts as 0).

    A user error (an instance of ``user_errors``) prints
    ``error: <message>`` to stderr (one line: the tools' messages are) and
    exits with status 1, without a traceback; ``MMSMTC_TRACEBACK=1`` in the
    environment shows the traceback instead. Usage errors exit with status
    2 (argparse's ``parser.error``). Other exceptions are bugs and keep
    their traceback.
    """
    try:
        status = main()
    except user_errors as error:
        if os.environ.get(TRACEBACK_ENV_VAR) == '1':
            raise
        print(f'error: {error_message(error)}', file=sys.stderr)
        sys.exit(1)
    sys.exit(status or 0)


def device_arg(text: str) -> str:
    """``argparse`` type of ``--device``: ``cpu``, ``cuda`` or ``cuda:N``."""
    if not DEVICE_PATTERN.fullmatch(text):
        raise ArgumentTypeError(f'{text!r}: expected cpu, cuda or cuda:N')
    return text


def add_demo_args(parser: ArgumentParser, config_help: str) -> None:
    """Add the arguments of the demos on a user's video: ``video``,
    ``config`` (described by ``config_help``), ``checkpoint`` (positional,
    as in ``tools/test.py``), ``--out``, ``--device``, ``--seed``,
    ``--max-frames`` and ``--max-side``."""
    parser.add_argument('video', help='mp4/avi file or folder of frames')
    parser.add_argument('config', help=config_help)
    parser.add_argument('checkpoint', help="trained checkpoint, or 'none' "
                        'for the weights the config initialises')
    parser.add_argument('--out', help='output folder (default: '
                        'work_dirs/demo/<video name>)')
    parser.add_argument('--device', type=device_arg,
                        help='cpu, cuda or cuda:N (default: cuda if '
                        'available)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random generators and of the '
                        'per-video test-time randomness (default: 0)')
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


class ConfigOptionsAction(DictAction):
    """MMEngine's ``--cfg-options`` parser; an option without ``=`` is a
    usage error (exit status 2) instead of a traceback."""

    def __call__(self, parser, namespace, values, option_string=None):
        malformed = [value for value in values if '=' not in value]
        if malformed:
            raise ArgumentError(
                self, f'{malformed[0]!r} is not KEY=VALUE (e.g. '
                'train_cfg.max_iters=100)')
        super().__call__(parser, namespace, values, option_string)


def add_launch_args(parser: ArgumentParser) -> None:
    """Add ``--work-dir``, ``--seed``, ``--device``,
    ``--allow-unsafe-checkpoints``, ``--cfg-options``, ``--launcher`` and
    ``--local-rank`` to a tool's parser; check them with
    :func:`check_launch_args` after parsing."""
    parser.add_argument('--work-dir', help='directory for logs and outputs')
    parser.add_argument(
        '--seed', type=int,
        help='seed of the run (randomness.seed; default: the config\'s)')
    parser.add_argument(
        '--device', type=device_arg,
        help='cpu, cuda or cuda:N (default: cuda when available, as '
        'MMEngine chooses; with --launcher, one GPU per process)')
    parser.add_argument(
        '--allow-unsafe-checkpoints', action='store_true',
        help='unpickle arbitrary objects in checkpoints (trusted files only)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=ConfigOptionsAction,
        help='override config settings, e.g. train_cfg.max_iters=100')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none', help='job launcher (set by tools/dist_*.sh and '
        'tools/slurm_*.sh)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help='process index on this node (set by the '
                        'launcher)')


def check_launch_args(parser: ArgumentParser, args: Namespace) -> None:
    """Usage errors among the launch arguments (exit status 2): a
    ``cuda:N`` device with a launcher, which gives each process its own
    GPU."""
    if args.launcher != 'none' and args.device is not None and \
            args.device.startswith('cuda:'):
        parser.error(f'--device {args.device} with --launcher '
                     f'{args.launcher}: the launcher gives each process its '
                     'GPU; pass --device cuda or none')


def load_launch_config(args: Namespace) -> Config:
    """The tool's config with the shared command-line settings applied.

    The work directory is ``--work-dir`` > ``work_dir`` in the config >
    ``work_dirs/<config name>``. ``--seed`` sets ``randomness.seed``.
    Without CUDA, distributed processes use gloo and a DDP wrapper without
    device ids. ``--allow-unsafe-checkpoints`` opts in to unpickling
    arbitrary objects for this process and its children.

    Raises:
        FileNotFoundError: If the config file does not exist.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.allow_unsafe_checkpoints:
        os.environ[UNSAFE_ENV_VAR] = '1'
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'{args.config}: config file does not exist')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.seed is not None:
        cfg.randomness = dict(cfg.get('randomness') or {}, seed=args.seed)
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


def select_device(device: Optional[str], launcher: str) -> None:
    """Check ``--device`` before the runner is built; make GPU ``N``
    current for ``cuda:N`` (MMEngine then places the model there).

    MMEngine chooses CUDA whenever it is available and places the model
    when the runner is built; :func:`place_model` moves it to the CPU
    afterwards for ``--device cpu``.

    Raises:
        ValueError: If CUDA is asked for but not available, GPU ``N`` does
            not exist, or ``cpu`` is asked for in distributed processes on
            a machine with CUDA (their process group and DDP wrapper are
            set up for the GPUs).
    """
    if device is None:
        return
    cuda = torch.cuda.is_available()
    if device.startswith('cuda'):
        if not cuda:
            raise ValueError(f'--device {device}: CUDA is not available '
                             'here (use --device cpu)')
        index = torch.device(device).index
        if index is not None:
            if index >= torch.cuda.device_count():
                raise ValueError(
                    f'--device {device}: this machine has '
                    f'{torch.cuda.device_count()} GPU(s)')
            torch.cuda.set_device(index)
    elif cuda and launcher != 'none':
        raise ValueError(
            '--device cpu with --launcher on a machine with CUDA: hide the '
            'GPUs instead (CUDA_VISIBLE_DEVICES= tools/dist_*.sh ...)')


def place_model(runner, device: Optional[str]) -> None:
    """Move the runner's model to the CPU for ``--device cpu`` where
    MMEngine placed it on a GPU (see :func:`select_device`)."""
    if device == 'cpu' and torch.cuda.is_available():
        runner.model.to('cpu')
        print_log('--device cpu: the model runs on the CPU', logger='current')


def init_cpu_process_group(cfg: Config) -> None:
    """Start the gloo process group on a machine without CUDA.

    MMEngine's ``pytorch`` launcher calls ``torch.cuda.set_device``, which
    fails without a GPU; the Runner skips its own initialisation when the
    group already exists.
    """
    if cfg.launcher == 'pytorch' and not torch.cuda.is_available() and \
            not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend='gloo')


def destroy_process_group() -> None:
    """Shut the default process group down at the end of a finished run.

    A process that exits with a live gloo group can abort while the
    interpreter tears down (``terminate called without an active
    exception``, SIGABRT: the group's worker threads outlive it), which turns
    a run that wrote all its results into a failed ``tools/dist_test.sh``.
    Call it only after the run succeeded: destroying the group while other
    ranks still wait in a collective would hang them. No-op without a group.
    """
    if torch.distributed.is_available() and \
            torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
