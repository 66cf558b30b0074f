"""The main job on the synthetic benchmark, end to end, on CPU.

``python tools/quickstart.py [--method smtc] [options]``
(``bash tools/quickstart.sh`` installs mmsmtc first, then runs this):

1. generates the synthetic set (``tools/data/make_synthetic.py``) unless
   the same set (same generator arguments) is already in ``--data``, and
   checks its layouts;
2. trains the method's tiny model (``tools/train.py TRAIN_CONFIG``),
   showing MMEngine's iterations, losses and eta; a method of two steps
   (Spa-then-Temp: MoCo, then temporal learning) first trains its
   pre-training config, converts the result (``tools/model_converters/``)
   and starts the main step from it;
3. tests the trained checkpoint and the same model untrained (the
   first training run's ``iter_0.pth``, the weights it started from,
   written by ``InitialCheckpointHook``; for a first step that only
   provides a frozen encoder, the main run's ``iter_0.pth``, see
   :class:`Pretraining`) with ``tools/test.py`` on the synthetic
   validation videos, one run per task of the method (for SMTC: object
   discovery -- DAVIS-2017 unsupervised J&F, video FG-ARI and mBO on the
   same masks -- and label propagation with the SMTC encoder -- DAVIS-2017
   semi-supervised J&F, JHMDB-style PCK, VIP-style mIoU; for Betrayed by
   Attention: object discovery; for Spa-then-Temp: label propagation with
   its student);
4. prints one table (metric x untrained / trained / difference) and writes
   it as ``comparison.json`` and ``comparison.md``;
5. writes overlays (``--show-dir`` PNG frames) and one GIF per video.

The methods and their configs are :data:`METHODS`; a new method adds one
entry. Paths given on the command line are relative to the current
directory. Everything goes under ``--work-dir`` (default
``work_dirs/quickstart``)::

    pretrain/                   the first step's checkpoints and log, and
                                its converted backbone (two-step methods)
    train/                      checkpoints and training log
    eval/<model>/<task>/        predictions/, <timestamp>/results.json
    overlays/<model>/<task>/    <video>/<frame>.png and <video>.gif
    logs/                       the full output of every test run
    comparison.{json,md}        the table

Every tool runs as a subprocess, exactly as a user would run it.
"""
import argparse
import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Dict, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmsmtc.datasets.dataset_check import check_dataset  # noqa: E402
from mmsmtc.datasets.synthetic import (DEFAULT_NUM_FRAMES,  # noqa: E402
                                       DEFAULT_NUM_TRAIN, DEFAULT_NUM_VAL,
                                       DEFAULT_SEED, DEFAULT_SIZE, parse_size)
from mmsmtc.datasets.synthetic.benchmark import (  # noqa: E402
    GENERATOR_VERSION, META_FILE)
from mmsmtc.evaluation.comparison import (compare_metrics,  # noqa: E402
                                          format_comparison, write_comparison)
from mmsmtc.utils import register_all_modules  # noqa: E402
from mmsmtc.utils.cpu_threads import openmp_environment  # noqa: E402
from mmsmtc.utils.launch import run_cli  # noqa: E402
from mmsmtc.visualization.animation import write_folder_gifs  # noqa: E402


@dataclass(frozen=True)
class Pretraining:
    """A first training step whose result initialises the main one.

    Attributes:
        config_pattern: Glob (relative to the repository) of its tiny
            synthetic training config (one match).
        converter: Script (relative to the repository) turning its last
            checkpoint into the main step's weight file: ``SRC DST``.
        init_options: Keys of the main config that get the converted file
            (``--cfg-options KEY=FILE``).
    """
    config_pattern: str
    converter: str
    init_options: Tuple[str, ...]


@dataclass(frozen=True)
class Method:
    """What the quickstart trains and tests for one method.

    Attributes:
        title: Names the model in the table's title, e.g. ``'tiny SMTC'``.
        train_config_pattern: Glob (relative to the repository) of its tiny
            synthetic training config; the quickstart trains the one match.
        test_configs: Folder of its test configs, relative to the
            repository.
        tasks: ``task -> (test config, data sub-folder)``; one test run of
            each model per task.
        table_rows: ``(label, '<task>:<metric key of results.json>')``.
        pretraining: A first step, or None.
    """
    title: str
    train_config_pattern: str
    test_configs: str
    tasks: Dict[str, Tuple[str, str]]
    table_rows: Tuple[Tuple[str, str], ...]
    pretraining: Optional[Pretraining] = None


#: Table rows of the object-discovery task (DAVIS unsup J&F, FG-ARI, mBO).
DISCOVERY_ROWS = (
    ('unsup J&F (discovery)', 'discovery:davis/J&F-Mean'),
    ('FG-ARI (discovery)', 'discovery:objects/FG-ARI'),
    ('mBO (discovery)', 'discovery:objects/mBO'),
)
#: Table rows of the label-propagation tasks.
PROPAGATION_ROWS = (
    ('semi J&F (propagation)', 'davis-semi:davis/J&F-Mean'),
    ('PCK@0.1 (propagation)', 'jhmdb:jhmdb/PCK@0.1'),
    ('PCK@0.2 (propagation)', 'jhmdb:jhmdb/PCK@0.2'),
    ('mIoU (propagation)', 'vip:vip/mIoU'),
)
#: ``--method`` -> what the quickstart runs for it.
METHODS = {
    'smtc': Method(
        title='tiny SMTC',
        train_config_pattern='configs/smtc/smtc_vit-tiny_*_synthetic-*.py',
        test_configs='configs/smtc_test',
        tasks={
            'discovery':
            ('discovery_smtc-vit-tiny_synthetic-davis17-unsup.py', 'DAVIS'),
            'davis-semi':
            ('labelprop_vit-tiny_synthetic-davis17-semi.py', 'DAVIS'),
            'jhmdb': ('labelprop_vit-tiny_synthetic-jhmdb.py', 'JHMDB'),
            'vip': ('labelprop_vit-tiny_synthetic-vip.py', 'VIP'),
        },
        table_rows=DISCOVERY_ROWS + PROPAGATION_ROWS),
    'videosaur': Method(
        title='tiny VideoSAUR',
        train_config_pattern='configs/videosaur/videosaur_vit-tiny_*.py',
        test_configs='configs/videosaur_test',
        tasks={
            'discovery':
            ('discovery_videosaur-vit-tiny_synthetic-davis17-unsup.py',
             'DAVIS'),
            'objects':
            ('objects_videosaur-vit-tiny_synthetic-davis17.py', 'DAVIS'),
        },
        table_rows=(
            ('FG-ARI (slot arg-max)', 'objects:objects/FG-ARI'),
            ('mBO (slot arg-max)', 'objects:objects/mBO'),
        ) + DISCOVERY_ROWS),
    'bba': Method(
        title='tiny Betrayed by Attention',
        train_config_pattern='configs/bba/bba_vit-tiny_*_synthetic-*.py',
        test_configs='configs/bba_test',
        tasks={
            'discovery':
            ('discovery_bba-vit-tiny_synthetic-davis17-unsup.py', 'DAVIS'),
        },
        table_rows=DISCOVERY_ROWS),
    'stt': Method(
        title='tiny Spa-then-Temp',
        train_config_pattern='configs/stt/stt_r18-s8_*_synthetic-*.py',
        test_configs='configs/stt_synthetic_test',
        tasks={
            'davis-semi':
            ('labelprop_stt-r18-s8_synthetic-davis17-semi.py', 'DAVIS'),
            'jhmdb': ('labelprop_stt-r18-s8_synthetic-jhmdb.py', 'JHMDB'),
            'vip': ('labelprop_stt-r18-s8_synthetic-vip.py', 'VIP'),
        },
        table_rows=PROPAGATION_ROWS,
        pretraining=Pretraining(
            config_pattern='configs/moco/moco-v2_r18_*_synthetic-*.py',
            converter='tools/model_converters/moco_to_mmsmtc.py',
            init_options=('model.backbone.init_cfg.checkpoint',
                          'model.teacher_backbone.init_cfg.checkpoint'))),
}
MODELS = ('untrained', 'trained')
#: Dataset checks of the generated set: (benchmark, data sub-folder).
LAYOUT_CHECKS = (('ytvos', 'YTVOS'), ('davis2017', 'DAVIS'),
                 ('davis2016', 'DAVIS'), ('jhmdb', 'JHMDB'), ('vip', 'VIP'))
#: Lines of a child's output echoed without --verbose.
PROGRESS = re.compile(r'Iter\(train\)|Saving checkpoint|global batch size|'
                      r'video \d+/\d+|Error|error:')
_print_lock = Lock()


class _DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except ``None`` ones (their help says what
    happens)."""

    def _get_help_string(self, action):
        if action.default is None:
            return action.help
        return super()._get_help_string(action)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train a method\'s tiny model on the synthetic set and '
        'compare it with the untrained model on its test tasks. Paths are '
        'relative to the current directory.',
        formatter_class=_DefaultsHelpFormatter)
    parser.add_argument('--method', choices=sorted(METHODS), default='smtc',
                        help='method to train and test')
    parser.add_argument('--data', default='data/synthetic',
                        help='synthetic set folder')
    parser.add_argument('--work-dir', default='work_dirs/quickstart',
                        help='output folder')
    parser.add_argument('--train-config',
                        help='training config of the tiny model (default: '
                        'the one match of the method\'s pattern, for smtc '
                        f'{METHODS["smtc"].train_config_pattern} in the '
                        'repository)')
    parser.add_argument('--iters', type=int,
                        help='training iterations (default: the config\'s)')
    parser.add_argument('--pretrain-iters', type=int,
                        help='iterations of the first step of a two-step '
                        'method (default: its config\'s)')
    parser.add_argument('--checkpoint',
                        help='test this checkpoint instead of training')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of training (the untrained model is the '
                        'weights training starts from)')
    parser.add_argument('--train-videos', type=int, default=DEFAULT_NUM_TRAIN,
                        help='synthetic training videos')
    parser.add_argument('--val-videos', type=int, default=DEFAULT_NUM_VAL,
                        help='synthetic validation videos (all are tested)')
    parser.add_argument('--frames', type=int, default=DEFAULT_NUM_FRAMES,
                        help='frames per synthetic video')
    parser.add_argument('--size', default='{}x{}'.format(*DEFAULT_SIZE),
                        help='synthetic frame size HxW')
    parser.add_argument('--data-seed', type=int, default=DEFAULT_SEED,
                        help='seed of the synthetic set')
    parser.add_argument('--regenerate', action='store_true',
                        help='generate the set even if the same one exists')
    parser.add_argument('--jobs', type=int, default=2,
                        help='test runs at a time')
    parser.add_argument('--fps', type=float, default=6.0,
                        help='frame rate of the GIFs')
    parser.add_argument('--verbose', action='store_true',
                        help='echo the whole output of every tool')
    args = parser.parse_args(argv)
    for name in ('iters', 'pretrain_iters', 'train_videos', 'val_videos',
                 'frames', 'jobs'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got '
                         f'{value}')
    return args


def say(message: str) -> None:
    with _print_lock:
        print(message, flush=True)


def run_tool(command, log_path: Path, tag: str, verbose: bool,
             env=None) -> None:
    """Run a tool, log all its output to ``log_path``, echo its progress.

    Raises:
        RuntimeError: If it fails; names the log and shows its last lines.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tail = []
    with open(log_path, 'w') as log, subprocess.Popen(
            [sys.executable, *map(str, command)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True) as process:
        for line in process.stdout:
            log.write(line)
            tail = (tail + [line.rstrip()])[-20:]
            if verbose or PROGRESS.search(line):
                say(f'[{tag}] {line.rstrip()}')
    if process.returncode != 0:
        raise RuntimeError(f'{tag} failed (exit {process.returncode}), full '
                           f'output in {log_path}:\n' + '\n'.join(tail))


def default_train_config(method: Method, pattern: str = None) -> str:
    """The one config of the repository matching ``pattern`` (default the
    method's ``train_config_pattern``)."""
    pattern = pattern or method.train_config_pattern
    found = sorted(ROOT.glob(pattern))
    if len(found) != 1:
        raise FileNotFoundError(
            f'expected one training config {pattern}, '
            f'found {[path.name for path in found]}; pass --train-config')
    return str(found[0].relative_to(ROOT))


def requested_set(args) -> dict:
    return dict(train=args.train_videos, val=args.val_videos,
                frames=args.frames, size=list(parse_size(args.size)),
                seed=args.data_seed, version=GENERATOR_VERSION)


def existing_set(data: Path):
    """The generator arguments and version of the set in ``data``, or None
    when there is no readable set."""
    meta_path = data / META_FILE
    try:
        meta = json.loads(meta_path.read_text())
        return dict(train=len(meta['train_videos']),
                    val=len(meta['val_videos']), frames=meta['num_frames'],
                    size=list(meta['size']), seed=meta['seed'],
                    version=meta.get('generator_version'))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def prepare_data(args, data: Path, logs: Path) -> None:
    wanted = requested_set(args)
    if not args.regenerate and existing_set(data) == wanted:
        say(f'== The same synthetic set is already in {data} '
            '(--regenerate to rebuild)')
    else:
        say(f'== Generating the synthetic set in {data}')
        run_tool([
            'tools/data/make_synthetic.py', data, '--train', wanted['train'],
            '--val', wanted['val'], '--frames', wanted['frames'], '--size',
            args.size, '--seed', wanted['seed'], '--overwrite'
        ], logs / 'make_synthetic.log', 'data', True)
    say('== Checking the dataset layouts')
    register_all_modules(init_default_scope=False)
    for benchmark, folder in LAYOUT_CHECKS:
        report = check_dataset(benchmark, str(data / folder),
                               allow_subset=True)
        if not report.passed(True):
            raise RuntimeError(f'{benchmark} layout in {data / folder}: '
                               + '; '.join(report.problems))
        say(f'   {benchmark}: {report.found} videos, OK')


def run_training(args, config, data: Path, work_dir: Path, name: str,
                 iters: Optional[int], options=()) -> Path:
    """One ``tools/train.py`` run in ``work_dir/name``; its last
    checkpoint."""
    train_dir = work_dir / name
    say(f'== Training {config} (log: {train_dir})')
    options = [f'train_dataloader.dataset.data_root={data / "YTVOS"}',
               *options]
    if iters is not None:
        options.append(f'train_cfg.max_iters={iters}')
    run_tool(['tools/train.py', config, '--work-dir', train_dir,
              '--seed', args.seed, '--cfg-options', *options],
             work_dir / 'logs' / f'{name}.log', name, args.verbose)
    checkpoint = Path((train_dir / 'last_checkpoint').read_text().strip())
    return checkpoint if checkpoint.is_absolute() else ROOT / checkpoint


def train(args, method: Method, data: Path,
          work_dir: Path) -> Tuple[Path, object]:
    """Train the tiny model (after its first step, if any); return its last
    checkpoint and the untrained model's (the first run's start)."""
    options = []
    first = None
    if method.pretraining is not None:
        step = method.pretraining
        first = run_training(
            args, default_train_config(method, step.config_pattern), data,
            work_dir, 'pretrain', args.pretrain_iters)
        converted = work_dir / 'pretrain' / 'backbone.pth'
        run_tool([step.converter, first, converted],
                 work_dir / 'logs' / 'convert.log', 'convert', True)
        options = [f'{key}={converted}' for key in step.init_options]
    checkpoint = run_training(args, args.train_config, data, work_dir,
                              'train', args.iters, options)
    return checkpoint, untrained_checkpoint(first or checkpoint)


def latest_results(eval_dir: Path) -> dict:
    found = sorted(eval_dir.glob('*/results.json'))
    if not found:
        raise FileNotFoundError(f'{eval_dir}: tools/test.py wrote no '
                                'results.json')
    return json.loads(found[-1].read_text())['metrics']


def untrained_checkpoint(checkpoint: Path):
    """The weights the run of ``checkpoint`` started from: its
    ``iter_0.pth``, or ``'none'`` (the config's initialisation, drawn anew)
    when the run has none."""
    initial = checkpoint.parent / 'iter_0.pth'
    if initial.is_file():
        return initial
    say(f'   {initial} is missing: the untrained model is the config\'s '
        'initialisation (checkpoint none), not the start of that run')
    return 'none'


def evaluate(args, method: Method, data: Path, work_dir: Path,
             checkpoint: Path, untrained) -> dict:
    """Run every (model, task) test; return ``{model: {task:key: v}}``."""
    configs = {task: ROOT / method.test_configs / name
               for task, (name, _) in method.tasks.items()}
    weights = dict(trained=checkpoint, untrained=untrained)
    env = openmp_environment(jobs=args.jobs)

    def test(job):
        model, task = job
        eval_dir = work_dir / 'eval' / model / task
        run_tool([
            'tools/test.py', configs[task], weights[model], '--work-dir',
            eval_dir,
            '--show-dir', work_dir / 'overlays' / model / task,
            '--seed', args.seed, '--cfg-options',
            f'test_dataloader.dataset.data_root={data / method.tasks[task][1]}'
        ], work_dir / 'logs' / f'test_{model}_{task}.log', f'{model} {task}',
                 args.verbose, env)
        return model, task, latest_results(eval_dir)

    say(f'== Testing the untrained and the trained model ({args.jobs} at a '
        'time)')
    jobs = [(model, task) for task in method.tasks for model in MODELS]
    metrics = {model: {} for model in MODELS}
    with ThreadPoolExecutor(args.jobs) as pool:
        for model, task, results in pool.map(test, jobs):
            metrics[model].update(
                {f'{task}:{key}': value for key, value in results.items()})
    return metrics


def resolve_paths(args) -> None:
    """Make the command line's paths absolute, relative to the current
    directory (the tools run from the repository root).

    Raises:
        FileNotFoundError: If ``--train-config`` or ``--checkpoint`` does
            not exist.
    """
    args.data = Path(args.data).resolve()
    args.work_dir = Path(args.work_dir).resolve()
    for name in ('train_config', 'checkpoint'):
        given = getattr(args, name)
        if given is not None:
            if not Path(given).is_file():
                raise FileNotFoundError(
                    f'--{name.replace("_", "-")} {given} does not exist')
            setattr(args, name, Path(given).resolve())


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    method = METHODS[args.method]
    resolve_paths(args)
    data, work_dir = args.data, args.work_dir
    args.train_config = args.train_config or default_train_config(method)
    prepare_data(args, data, work_dir / 'logs')
    if args.checkpoint:
        checkpoint = args.checkpoint
        untrained = untrained_checkpoint(checkpoint)
    else:
        checkpoint, untrained = train(args, method, data, work_dir)
    metrics = evaluate(args, method, data, work_dir, checkpoint, untrained)
    gifs = [
        gif for model in MODELS for task in method.tasks for gif in
        write_folder_gifs(work_dir / 'overlays' / model / task, args.fps)
    ]
    rows = compare_metrics(metrics['untrained'], metrics['trained'],
                           method.table_rows)
    paths = write_comparison(
        work_dir, rows, headers=MODELS,
        sources=dict(checkpoint=str(checkpoint), seed=str(args.seed),
                     data=str(data)))
    minutes = (time.perf_counter() - start) / 60
    say(f'\n== Untrained vs trained {method.title} on {args.val_videos} '
        f'synthetic validation videos (%, seed {args.seed}, '
        f'{minutes:.1f} min in all)\n')
    say(format_comparison(rows, headers=MODELS))
    say(f'\nTable:        {paths["markdown"]}, {paths["json"]}\n'
        f'Checkpoint:   {checkpoint}\n'
        f'Results:      {work_dir / "eval"}/<model>/<task>/<time>/'
        'results.json (per_video.csv beside)\n'
        f'Predictions:  {work_dir / "eval"}/<model>/<task>/predictions/\n'
        f'Overlays:     {work_dir / "overlays"}/<model>/<task>/<video>/ '
        f'(PNG frames), {len(gifs)} GIFs beside them, e.g. {gifs[0]}\n'
        f'Logs:         {work_dir / "logs"}/')
    return 0


if __name__ == '__main__':
    # RuntimeError: a tool it runs failed (the message names its log).
    run_cli(main, (RuntimeError, OSError, KeyError, ValueError))
