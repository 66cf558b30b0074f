"""Check VideoSAUR's shards (MOVi-C/E, YT-VIS 2021, COCO) before using them.

Example::

    python tools/data/check_videosaur_shards.py data/movi_c movi_c
    python tools/data/check_videosaur_shards.py data/ytvis2021_resized \\
        ytvis2021 --splits validation

Counts the shards and samples of each split against the official numbers
(MOVi: 305 training shards, 8 validation shards of 250 videos; YT-VIS 2021:
84 shards of 2,685 training videos, 30 of 300 validation videos; COCO: 925
and 40 shards, 5,000 validation images) and reads every member's ``.npy``
header, naming the shard and member of anything malformed. Exits with
status 1 when a split does not match.
"""
import argparse

from mmsmtc.datasets.shard_check import LAYOUTS, check_videosaur_dataset
from mmsmtc.utils.launch import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Check a copy of VideoSAUR\'s webdataset shards.')
    parser.add_argument('root', help='folder holding the .tar shards')
    parser.add_argument('dataset', choices=sorted(LAYOUTS))
    parser.add_argument('--splits',
                        nargs='+',
                        default=['train', 'validation'],
                        choices=['train', 'validation'])
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    reports = check_videosaur_dataset(args.root, args.dataset, args.splits)
    for report in reports:
        layout = LAYOUTS[args.dataset][report.split]
        expected = '' if layout.num_samples is None else \
            f' (official {layout.num_samples})'
        print(f'{report.split}: {report.num_shards} shards (official '
              f'{layout.num_shards}), {report.num_samples} samples'
              f'{expected}: {"OK" if report.ok else "MISMATCH"}')
        for error in report.errors[:20]:
            print(f'  {error}')
        if len(report.errors) > 20:
            print(f'  ... and {len(report.errors) - 20} more')
    return 0 if all(report.ok for report in reports) else 1


if __name__ == '__main__':
    run_cli(main)
