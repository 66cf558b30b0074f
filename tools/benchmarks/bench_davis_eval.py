"""Benchmark mmsmtc's DAVIS-2017 evaluation against the official tool.

From a folder of real masks (``osvos/<sequence>/*.png`` and
``rvos/<sequence>/*.png``, the layout of ``tests/data/davis2017_masks``, the
default, 2 sequences; ``../shared/data/davis2017_val_masks`` has all 30
validation sequences) it builds the two pairings of that folder's
``reference.json`` in a work folder:

- U1, unsupervised: ground truth = ``osvos/`` (as
  ``Annotations_unsupervised/480p``), results = ``rvos/`` (20 proposals);
- S3, semi-supervised: ground truth = ``osvos/`` (as ``Annotations/480p``),
  results = ``osvos/`` shifted by +5 rows and -3 columns, with the highest id
  of every 7th frame removed.

For each it times ``tools/analysis_tools/eval_davis.py`` in a subprocess
(``--nproc`` workers) and :func:`mmsmtc.evaluation.evaluate_davis` with one
process. With ``--official-root`` (a checkout of
davisvideochallenge/davis2017-evaluation, whose requirements are installed
for ``--official-python``) it also times the official evaluation in a
subprocess on the same folders (``DAVISEvaluation(...).evaluate``, which its
``evaluation_method.py`` runs), prints the speed-ups and the largest
difference between the per-object numbers, and can save the official
numbers (``--save-official``). Without it, the baseline is not measured and
no ratio is printed.

Example (the README's numbers)::

    python tools/benchmarks/bench_davis_eval.py \\
        --data ../shared/data/davis2017_val_masks --nproc 2 \\
        --official-root ../davis2017-evaluation \\
        --official-python ../venv-official/bin/python
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from mmsmtc.evaluation import evaluate_davis
from mmsmtc.ops.cpu_gemm import describe_processor
from mmsmtc.utils import read_indexed_png, write_indexed_png

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO / 'tests' / 'data' / 'davis2017_masks'
EVAL_TOOL = REPO / 'tools' / 'analysis_tools' / 'eval_davis.py'

#: The pairings: case name, task, results folder in the work folder.
CASES = (('S3', 'semi-supervised', 'shifted'), ('U1', 'unsupervised', 'rvos'))
PAIRINGS = {
    'U1': ('unsupervised: ground truth = osvos/ (as Annotations_unsupervised/'
           '480p), results = rvos/'),
    'S3': ('semi-supervised: ground truth = osvos/ (as Annotations/480p); '
           'results = osvos/ shifted by +5 rows, -3 columns with zero fill, '
           'then in every 7th frame (1-based frame position divisible by 7) '
           'the highest object id present is set to 0'),
}
STATISTICS = ('J-Mean', 'J-Recall', 'J-Decay', 'F-Mean', 'F-Recall', 'F-Decay')

#: The ``note`` of a file written by ``--save-official``.
SAVED_NOTE = ('Per-object numbers (raw floats) of the official '
              'davis2017-evaluation for the pairings of the masks in this '
              'folder, written by tools/benchmarks/bench_davis_eval.py '
              '--save-official.')

#: Runs the official evaluation: argv = official root, DAVIS root, task,
#: results folder, output JSON; writes the raw per-object numbers.
OFFICIAL_PROGRAM = '''
import json, sys
sys.path.insert(0, sys.argv[1])
from davis2017.evaluation import DAVISEvaluation
davis_root, task, results, output = sys.argv[2:6]
metrics = DAVISEvaluation(davis_root=davis_root, task=task,
                          gt_set='val').evaluate(results)
names = list(metrics['J']['M_per_object'])
per_object = {
    name: {f'{measure}-{statistic}': float(metrics[measure][key][index])
           for measure in 'JF'
           for statistic, key in (('Mean', 'M'), ('Recall', 'R'),
                                  ('Decay', 'D'))}
    for index, name in enumerate(names)}
with open(output, 'w') as file:
    json.dump(per_object, file)
'''


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data',
                        type=Path,
                        default=DEFAULT_DATA,
                        help='folder with osvos/ and rvos/ (default: the '
                        'repository fixture, %(default)s)')
    parser.add_argument(
        '--work-dir',
        type=Path,
        help='where to build the pairings (default: a temporary folder)')
    parser.add_argument('--nproc',
                        type=int,
                        help='mmsmtc worker processes (default: all cores)')
    parser.add_argument(
        '--official-root',
        type=Path,
        help='checkout of davisvideochallenge/davis2017-evaluation; without '
        'it the official tool is not run and no speed-up is printed')
    parser.add_argument(
        '--official-python',
        default=sys.executable,
        help='Python with the official tool\'s requirements (numpy, scipy, '
        'Pillow, opencv, scikit-image, tqdm); default: this one')
    parser.add_argument(
        '--tasks', nargs='+', choices=[task for _, task, _ in CASES],
        default=[task for _, task, _ in CASES],
        help='the tasks to time (default: both; the official unsupervised '
        'evaluation takes about 14 minutes on 30 sequences)')
    parser.add_argument(
        '--save-official',
        type=Path,
        help='write the official per-object numbers here, in the format '
        'of reference.json (needs --official-root)')
    args = parser.parse_args(argv)
    if args.save_official and not args.official_root:
        parser.error('--save-official needs --official-root')
    return args


def sequences_of(data: Path) -> List[str]:
    """Sequences with both OSVOS and RVOS masks, sorted."""
    if not (data / 'osvos').is_dir() or not (data / 'rvos').is_dir():
        raise FileNotFoundError(f'{data}: needs osvos/ and rvos/ folders')
    return sorted(path.name for path in (data / 'osvos').iterdir()
                  if (data / 'rvos' / path.name).is_dir())


def perturbed(mask: np.ndarray, position: int) -> np.ndarray:
    """S3's result for the ground-truth frame at 1-based ``position``."""
    shifted = np.zeros_like(mask)
    shifted[5:, :-3] = mask[:-5, 3:]
    if position % 7 == 0 and shifted.max() > 0:
        shifted[shifted == shifted.max()] = 0
    return shifted


def build_pairings(data: Path, work_dir: Path, sequences: List[str]) -> None:
    """Write a DAVIS root with both pairings' folders into ``work_dir``.

    ``JPEGImages/480p`` gets one empty ``.jpg`` per frame: the official
    reader lists the frames there but never opens them.
    """
    (work_dir / 'ImageSets' / '2017').mkdir(parents=True, exist_ok=True)
    (work_dir / 'ImageSets' / '2017' /
     'val.txt').write_text('\n'.join(sequences) + '\n')
    for name in sequences:
        for folder in ('Annotations', 'Annotations_unsupervised'):
            shutil.copytree(data / 'osvos' / name,
                            work_dir / folder / '480p' / name,
                            dirs_exist_ok=True)
        shutil.copytree(data / 'rvos' / name,
                        work_dir / 'rvos' / name,
                        dirs_exist_ok=True)
        paths = sorted((data / 'osvos' / name).glob('*.png'))
        (work_dir / 'JPEGImages' / '480p' / name).mkdir(parents=True,
                                                        exist_ok=True)
        for position, path in enumerate(paths, start=1):
            (work_dir / 'JPEGImages' / '480p' / name /
             f'{path.stem}.jpg').touch()
            write_indexed_png(work_dir / 'shifted' / name / path.name,
                              perturbed(read_indexed_png(path), position))


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_timed(command: List[str]) -> Tuple[float, float]:
    """Run a command; return its (wall, CPU) seconds, CPU including every
    process it waited for.

    Raises:
        RuntimeError: With the end of its error output if it fails.
    """
    cpu, wall = _children_cpu_seconds(), time.perf_counter()
    process = subprocess.run(command, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, _children_cpu_seconds() - cpu
    if process.returncode:
        raise RuntimeError(f'{command[:3]} failed with status '
                           f'{process.returncode}:\n{process.stderr[-3000:]}')
    return wall, cpu


def run_official(args: argparse.Namespace, root: Path, task: str,
                 results: Path) -> Tuple[Dict, float, float]:
    """Official per-object numbers and (wall, CPU) seconds."""
    output = root / f'official-{task}.json'
    wall, cpu = run_timed([
        args.official_python, '-c', OFFICIAL_PROGRAM,
        str(args.official_root.resolve()),
        str(root), task,
        str(results),
        str(output)
    ])
    return json.loads(output.read_text()), wall, cpu


def largest_difference(ours: Dict, official: Dict) -> float:
    """Largest absolute difference over all per-object numbers.

    Raises:
        ValueError: If the two have different object rows.
    """
    if list(ours) != list(official):
        raise ValueError(f'objects differ: mmsmtc {list(ours)}, official '
                         f'{list(official)}')
    return max(
        abs(ours[row][key] - official[row][key]) for row in official
        for key in STATISTICS)


def official_commit(official_root: Path) -> Optional[str]:
    """The commit of the checkout, or None when ``official_root`` is not the
    top of a git checkout."""
    process = subprocess.run([
        'git', '-C',
        str(official_root), 'rev-parse', '--show-toplevel', 'HEAD'
    ],
                             capture_output=True,
                             text=True)
    lines = process.stdout.split()
    if process.returncode or len(lines) != 2:
        return None
    top, commit = lines
    return commit if Path(top).resolve() == official_root.resolve() else None


def run(args: argparse.Namespace, work_dir: Path) -> None:
    sequences = sequences_of(args.data)
    build_pairings(args.data, work_dir, sequences)
    nproc = args.nproc or os.cpu_count()
    print(f'Processor: {describe_processor()}; {os.cpu_count()} cores, load '
          f'average {os.getloadavg()[0]:.1f} at the start')
    print(f'Data: {args.data} ({len(sequences)} sequences); mmsmtc with '
          f'{nproc} processes')
    if args.official_root is None:
        print('Official tool: not measured (pass --official-root, a '
              'checkout of davisvideochallenge/davis2017-evaluation); no '
              'speed-up is printed')
    saved = {}
    for case, task, folder in CASES:
        if task not in args.tasks:
            continue
        results = work_dir / folder
        tool_wall, tool_cpu = run_timed([
            sys.executable,
            str(EVAL_TOOL), '--davis-root',
            str(work_dir), '--results',
            str(results), '--task', task, '--nproc',
            str(nproc)
        ])
        cpu, wall = _own_cpu_seconds(), time.perf_counter()
        ours = evaluate_davis(work_dir, results, task, nproc=1)['per_object']
        serial_wall = time.perf_counter() - wall
        serial_cpu = _own_cpu_seconds() - cpu
        print(f'\n[{task}] mmsmtc eval_davis.py: {tool_wall:.1f} s wall, '
              f'{tool_cpu:.1f} s CPU ({nproc} processes); evaluate_davis in '
              f'1 process: {serial_wall:.1f} s wall, {serial_cpu:.1f} s CPU')
        if args.official_root is None:
            continue
        official, wall, cpu = run_official(args, work_dir, task, results)
        print(f'[{task}] official tool: {wall:.1f} s wall, {cpu:.1f} s CPU '
              '(1 process)')
        print(f'[{task}] speed-up: {wall / tool_wall:.1f}x wall '
              f'(eval_davis.py, {nproc} processes); {cpu / serial_cpu:.1f}x '
              'CPU (1 process each)')
        print(f'[{task}] largest per-object difference from the official '
              f'numbers: {largest_difference(ours, official):.1e} '
              f'({len(official)} objects x {len(STATISTICS)} statistics)')
        saved[case] = dict(task=task,
                           pairing=PAIRINGS[case],
                           sequences=sequences,
                           per_object=official)
    if args.official_root is not None:
        print('\nOn a machine shared with other jobs (see the load average) '
              'the CPU-time ratio is the steadier one.')
    if args.save_official:
        save_official(args.save_official, args.official_root, saved)


def save_official(path: Path, official_root: Path, cases: Dict) -> None:
    """Write the official numbers in the format of ``reference.json``."""
    commit = official_commit(official_root)
    reference = dict(note=SAVED_NOTE, official_commit=commit, cases=cases)
    path.write_text(json.dumps(reference, indent=1) + '\n')
    print(f'Official numbers saved in {path} (official commit '
          f'{commit or "unknown: not a git checkout"})')


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.work_dir is not None:
            run(args, args.work_dir)
        else:
            with tempfile.TemporaryDirectory() as work_dir:
                run(args, Path(work_dir))
    except (OSError, RuntimeError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
