"""Check that a benchmark is laid out as mmsmtc expects and decodes.

Usage::

    python tools/data/check_dataset.py davis2017 data/DAVIS
    python tools/data/check_dataset.py jhmdb data/synthetic/JHMDB \
        --allow-subset

Prints found vs expected video counts and every missing or unreadable file;
exits with status 1 on any problem, or when fewer videos than the full
split are found without ``--allow-subset``.
"""
import argparse

from mmsmtc.datasets.dataset_check import EXPECTED_VIDEOS, check_dataset
from mmsmtc.utils.launch import run_cli
from mmsmtc.utils.setup_env import register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('benchmark', choices=sorted(EXPECTED_VIDEOS))
    parser.add_argument('root', help='the dataset folder')
    parser.add_argument(
        '--allow-subset',
        action='store_true',
        help='accept fewer videos than the full split (e.g. the synthetic '
        'set): listed videos that are absent are skipped, not errors')
    parser.add_argument(
        '--split', help='DAVIS split to check (val or train; default val)')
    args = parser.parse_args()
    if args.split and not args.benchmark.startswith('davis'):
        parser.error('--split applies to davis2017 and davis2016 only')
    return args


def main() -> int:
    args = parse_args()
    register_all_modules()
    kwargs = dict(split=args.split) if args.split else {}
    report = check_dataset(args.benchmark, args.root, args.allow_subset,
                           **kwargs)
    for note in report.notes:
        print(f'note: {note}')
    for problem in report.problems:
        print(f'PROBLEM: {problem}')
    print(f'{args.benchmark} at {args.root}: found {report.found} of '
          f'expected {report.expected} videos, '
          f'{len(report.problems)} problems')
    passed = report.passed(args.allow_subset)
    if not passed and not report.problems:
        print(f'incomplete: {report.expected - report.found} videos missing '
              '(pass --allow-subset to accept a smaller set)')
    print('OK' if passed else 'FAILED')
    return 0 if passed else 1


if __name__ == '__main__':
    run_cli(main)
