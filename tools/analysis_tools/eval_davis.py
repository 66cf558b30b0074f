"""Evaluate a DAVIS-2017 result folder (semi-supervised or unsupervised).

Gives the numbers of the official ``davis2017-evaluation`` tool, many times
faster, prints its global and per-sequence tables and writes
``global_results-<set>.csv`` and ``per-sequence_results-<set>.csv`` (its CSV
format) into the results folder, recomputed on every run.

Example::

    python tools/analysis_tools/eval_davis.py --davis-root data/DAVIS \\
        --results work_dirs/smtc/davis_results --task semi-supervised
"""
import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

if __name__ == '__main__':
    # Before numpy is imported: kept from starting OpenMP, OpenBLAS and MKL
    # thread pools (the evaluation does not use them), this process has a
    # single thread, so evaluate_davis forks its workers from it instead of
    # starting a fork server that imports everything again (see
    # mmsmtc/evaluation/worker_processes.py).
    for _variable in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS',
                      'MKL_NUM_THREADS'):
        os.environ[_variable] = '1'

from mmsmtc.evaluation import evaluate_davis  # noqa: E402
from mmsmtc.evaluation.functional.davis import (  # noqa: E402
    GLOBAL_METRIC_KEYS)

SEQUENCE_COLUMNS = ('Sequence', 'J-Mean', 'F-Mean')


def parse_args(argv: Sequence[str] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate DAVIS-2017 results with the official protocol')
    parser.add_argument(
        '--davis-root',
        required=True,
        help='DAVIS folder with ImageSets/2017 and Annotations/480p or '
        'Annotations_unsupervised/480p')
    parser.add_argument(
        '--results',
        required=True,
        help='folder of <sequence>/<frame>.png indexed PNG results; the CSV '
        'files are written here')
    parser.add_argument('--task',
                        required=True,
                        choices=['semi-supervised', 'unsupervised'])
    parser.add_argument('--set',
                        default='val',
                        help='subset list ImageSets/2017/<set>.txt')
    parser.add_argument('--sequences',
                        nargs='+',
                        help='evaluate only these sequences')
    parser.add_argument('--nproc',
                        type=int,
                        help='worker processes (default: all CPU cores)')
    return parser.parse_args(argv)


def _csv_number(value: float) -> str:
    """``'%.3f'`` like pandas' ``float_format``; NaN as an empty field."""
    return '' if math.isnan(value) else f'{value:.3f}'


def _table(header: Sequence[str], rows: List[List[str]]) -> str:
    """Right-aligned text table like ``DataFrame.to_string(index=False)``."""
    widths = [
        max(len(str(cell)) for cell in column)
        for column in zip(header, *rows)
    ]
    lines = [header] + rows
    return '\n'.join(' '.join(
        str(cell).rjust(width) for cell, width in zip(line, widths))
                     for line in lines)


def write_csvs(results: Dict[str, Dict], output_dir: Path,
               subset: str) -> List[Path]:
    """Write the official global and per-sequence CSV files.

    Returns:
        list: The two written paths.
    """
    global_path = output_dir / f'global_results-{subset}.csv'
    sequence_path = output_dir / f'per-sequence_results-{subset}.csv'
    global_values = [results['global'][key] for key in GLOBAL_METRIC_KEYS]
    global_path.write_text(','.join(GLOBAL_METRIC_KEYS) + '\n' +
                           ','.join(map(_csv_number, global_values)) + '\n')
    lines = [','.join(SEQUENCE_COLUMNS)]
    for name, stats in results['per_object'].items():
        lines.append(','.join(
            [name,
             _csv_number(stats['J-Mean']),
             _csv_number(stats['F-Mean'])]))
    sequence_path.write_text('\n'.join(lines) + '\n')
    return [global_path, sequence_path]


def print_tables(results: Dict[str, Dict], subset: str) -> None:
    """Print the global and per-sequence tables like the official tool."""
    print(f'--------------------------- Global results for {subset} '
          '---------------------------')
    print(
        _table(
            GLOBAL_METRIC_KEYS,
            [[f'{results["global"][key]:.6f}' for key in GLOBAL_METRIC_KEYS]]))
    print(f'\n---------- Per sequence results for {subset} ----------')
    print(
        _table(SEQUENCE_COLUMNS,
               [[name, f'{stats["J-Mean"]:.6f}', f'{stats["F-Mean"]:.6f}']
                for name, stats in results['per_object'].items()]))


def main(argv: Sequence[str] = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    print(f'Evaluating sequences for the {args.task} task...')
    try:
        results = evaluate_davis(args.davis_root,
                                 args.results,
                                 args.task,
                                 subset=args.set,
                                 sequences=args.sequences,
                                 nproc=args.nproc)
    except (OSError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    for path in write_csvs(results, Path(args.results), args.set):
        print(f'Results saved in {path}')
    print_tables(results, args.set)
    print(f'\nTotal time: {time.perf_counter() - start:.2f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
