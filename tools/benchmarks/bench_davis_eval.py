"""Benchmark mmsmtc's DAVIS-2017 evaluation against a per-pair baseline.

On the real masks of ``davis2017_val_masks`` (see ``shared/data/README.md``)
it builds two pairings in a work folder:

- unsupervised: ground truth = ``osvos/`` (as
  ``Annotations_unsupervised/480p``), results = ``rvos/`` (up to 20
  proposals);
- semi-supervised: ground truth = ``osvos/`` (as ``Annotations/480p``),
  results = ``osvos/`` shifted by +5 rows and -3 columns, with the highest id
  of every 7th frame removed (pairing S3 of ``reference_public.json``).

It times :func:`mmsmtc.evaluation.evaluate_davis` on all sequences and, on a
few sequences, a straightforward per-pair re-implementation of the official
algorithm (every (result, object) pair and frame recomputes both boundaries
and dilations, as ``davis2017-evaluation`` does), checks that both give the
same numbers, and prints throughputs and speed-up ratios, also against the
official tool's timings on 2 cores from the issue (semi-supervised 55-85 s,
unsupervised about 14 minutes for the 30 sequences).

Example::

    python tools/benchmarks/bench_davis_eval.py \\
        --masks ../shared/data/davis2017_val_masks
"""
import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from mmsmtc.evaluation import evaluate_davis
from mmsmtc.evaluation.davis_api import load_sequence
from mmsmtc.evaluation.functional import (boundary_f_measure,
                                          region_similarity)
from mmsmtc.evaluation.functional.davis import sequence_statistics
from mmsmtc.utils import read_indexed_png, write_indexed_png

#: Official tool on 2 cores for the 30 val sequences (seconds), from the
#: issue: semi-supervised 55-85 s, unsupervised about 14 minutes.
OFFICIAL_SECONDS = {'semi-supervised': (55.0, 85.0), 'unsupervised': (840.0, )}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--masks',
                        type=Path,
                        default=Path(__file__).resolve().parents[3] /
                        'shared' / 'data' / 'davis2017_val_masks',
                        help='folder with osvos/ and rvos/')
    parser.add_argument(
        '--work-dir',
        type=Path,
        help='where to build the pairings (default: a temporary folder)')
    parser.add_argument('--nproc',
                        type=int,
                        help='worker processes (default: all cores)')
    parser.add_argument(
        '--semi-baseline',
        nargs='+',
        default=['judo', 'india', 'gold-fish'],
        help='sequences also run through the per-pair baseline, '
        'semi-supervised (default: multi-object ones)')
    parser.add_argument(
        '--unsup-baseline',
        nargs='+',
        default=['blackswan', 'car-shadow', 'dog'],
        help='sequences also run through the per-pair baseline, '
        'unsupervised (20 proposals each)')
    return parser.parse_args()


def build_pairings(masks: Path, work_dir: Path) -> Dict[str, Path]:
    """Write the DAVIS root and both result folders; return their paths."""
    sequences = sorted(path.name for path in (masks / 'osvos').iterdir())
    (work_dir / 'ImageSets' / '2017').mkdir(parents=True, exist_ok=True)
    (work_dir / 'ImageSets' / '2017' /
     'val.txt').write_text('\n'.join(sequences) + '\n')
    for name in sequences:
        for folder in ('Annotations', 'Annotations_unsupervised'):
            target = work_dir / folder / '480p' / name
            if not target.exists():
                shutil.copytree(masks / 'osvos' / name, target)
        if not (work_dir / 'rvos' / name).exists():
            shutil.copytree(masks / 'rvos' / name, work_dir / 'rvos' / name)
        paths = sorted((masks / 'osvos' / name).glob('*.png'))
        for position, path in enumerate(paths, start=1):
            mask = read_indexed_png(path)
            shifted = np.zeros_like(mask)
            shifted[5:, :-3] = mask[:-5, 3:]
            if position % 7 == 0 and shifted.max() > 0:
                shifted[shifted == shifted.max()] = 0
            write_indexed_png(work_dir / 'shifted' / name / path.name, shifted)
    return {
        'root': work_dir,
        'semi-supervised': work_dir / 'shifted',
        'unsupervised': work_dir / 'rvos'
    }


def _binary_stack(frames: List[np.ndarray], count: int) -> np.ndarray:
    """``(count, T, H, W)`` bool masks of ids ``1..count``."""
    ids = np.stack(frames)
    return ids[None] == np.arange(1, count + 1)[:, None, None, None]


def baseline_sequence(root: Path, results: Path, task: str,
                      sequence: str) -> Dict[str, Dict[str, float]]:
    """The official per-pair algorithm: every pair recomputes everything."""
    gt_frames, pred_frames, num_objects = load_sequence(
        root, results, task, sequence)
    void = np.stack(gt_frames) == 255 if task == 'unsupervised' else None
    gt = _binary_stack(gt_frames, num_objects)
    num_results = max(int(frame.max()) for frame in pred_frames)
    pred = _binary_stack(pred_frames, max(num_results, num_objects))
    pairs = ([(obj, obj) for obj in range(num_objects)] if task
             == 'semi-supervised' else [(result, obj)
                                        for obj in range(num_objects)
                                        for result in range(len(pred))])
    region = np.zeros((len(pred), num_objects, len(gt_frames)))
    boundary = np.zeros_like(region)
    for result, obj in pairs:
        for frame in range(len(gt_frames)):
            frame_void = None if void is None else void[frame]
            region[result, obj,
                   frame] = region_similarity(gt[obj, frame],
                                              pred[result, frame], frame_void)
            boundary[result, obj,
                     frame] = boundary_f_measure(gt[obj, frame], pred[result,
                                                                      frame],
                                                 frame_void)
    if task == 'semi-supervised':
        rows = cols = np.arange(num_objects)
    else:
        rows, cols = linear_sum_assignment(
            -(region.mean(axis=2) + boundary.mean(axis=2)) / 2)
    return sequence_statistics(
        sequence, dict(J=region[rows, cols], F=boundary[rows, cols]))


def workload(root: Path, results: Path, task: str,
             sequences: Sequence[str]) -> Tuple[int, int]:
    """``(frames x objects, frames x proposals x objects)`` evaluated."""
    pairs = scored = 0
    for name in sequences:
        gt_frames, pred_frames, num_objects = load_sequence(
            root, results, task, name)
        proposals = max(max(int(frame.max()) for frame in pred_frames),
                        num_objects)
        pairs += len(gt_frames) * num_objects
        scored += len(gt_frames) * proposals * num_objects
    return pairs, scored


def _peak_memory_mib() -> float:
    """Peak resident memory (MiB) of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """User + system CPU time of this process (workers not included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(function, *args, **kwargs):
    """``(result, wall seconds, CPU seconds)`` of one call."""
    wall, cpu = time.perf_counter(), _cpu_seconds()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, _cpu_seconds() - cpu


def run(args: argparse.Namespace, work_dir: Path) -> None:
    paths = build_pairings(args.masks, work_dir)
    root = paths['root']
    all_sequences = sorted(path.name
                           for path in (args.masks / 'osvos').iterdir())
    nproc = args.nproc or os.cpu_count()
    print(f'{len(all_sequences)} sequences, nproc={nproc}, '
          f'load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores')
    imports_mib = _peak_memory_mib()
    for task in ('semi-supervised', 'unsupervised'):
        results = paths[task]
        pairs, scored = workload(root, results, task, all_sequences)
        _, wall, _ = timed(evaluate_davis, root, results, task, nproc=nproc)
        _, serial_wall, serial_cpu = timed(evaluate_davis,
                                           root,
                                           results,
                                           task,
                                           nproc=1)
        print(f'\n[{task}] mmsmtc, all sequences: {wall:.1f} s wall with '
              f'{nproc} processes; {pairs / wall:.0f} frames x objects/s, '
              f'{scored / wall:.0f} frames x proposals x objects/s; '
              f'1 process: {serial_wall:.1f} s wall, {serial_cpu:.1f} s CPU, '
              'peak memory '
              f'{_peak_memory_mib():.0f} MiB (imports '
              f'included: {imports_mib:.0f} MiB)')
        for official in OFFICIAL_SECONDS[task]:
            print(f'  official tool ({official:.0f} s) / mmsmtc wall: '
                  f'{official / wall:.1f}x')
        subset = (args.semi_baseline
                  if task == 'semi-supervised' else args.unsup_baseline)
        fast, fast_wall, fast_cpu = timed(evaluate_davis,
                                          root,
                                          results,
                                          task,
                                          sequences=subset,
                                          nproc=1)
        slow_rows = {}
        _, slow_wall, slow_cpu = timed(lambda: [
            slow_rows.update(baseline_sequence(root, results, task, name))
            for name in subset
        ])
        gap = max(
            abs(fast['per_object'][row][key] - value)
            for row, stats in slow_rows.items()
            for key, value in stats.items())
        print(f'  per-pair baseline on {subset} (1 process): '
              f'{slow_wall:.1f} s wall, {slow_cpu:.1f} s CPU; mmsmtc 1 '
              f'process: {fast_wall:.1f} s wall, {fast_cpu:.1f} s CPU; '
              f'speed-up {slow_cpu / fast_cpu:.1f}x CPU, '
              f'{slow_wall / fast_wall:.1f}x wall; largest difference '
              f'{gap:.1e}')
    print('\nOn a machine shared with other jobs (see the load average '
          'above) the CPU-time ratios are the fair ones.')


def main() -> None:
    args = parse_args()
    if args.work_dir is not None:
        run(args, args.work_dir)
        return
    with tempfile.TemporaryDirectory() as work_dir:
        run(args, Path(work_dir))


if __name__ == '__main__':
    main()
