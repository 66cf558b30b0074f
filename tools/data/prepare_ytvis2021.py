"""Write YouTube-VIS 2021 as VideoSAUR's shards (its data/save_ytvis2021.py).

Example::

    python tools/data/prepare_ytvis2021.py data/ytvis2021_raw \\
        data/ytvis2021_resized
    python tools/data/prepare_ytvis2021.py data/ytvis2021_raw \\
        data/ytvis2021_resized_518 --short-side 518

RAW is the unpacked official download: ``RAW/train/instances.json`` and
``RAW/train/JPEGImages/<video>/<frame>.jpg``. VideoSAUR's validation split is
the last 300 videos of the official training set (``instances.json`` order),
its training split the other 2,685 (see mmsmtc/datasets/ytvis_shards.py).
Writes ``OUT/ytvis-train-NNNNNN.tar`` (32 videos each, ``<id>.video.npy``;
the official ``--only-videos``) and ``OUT/ytvis-validation-NNNNNN.tar`` (10
each, also ``<id>.segmentations.npy``), frames and masks resized to short
side 320 (nearest-exact). Check the result with
tools/data/check_videosaur_shards.py.
"""
import argparse
import time
from pathlib import Path

from mmsmtc.datasets.ytvis_shards import (SPLITS, load_instances,
                                          write_ytvis_split)
from mmsmtc.utils.launch import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='YouTube-VIS 2021 (official train set) -> VideoSAUR '
        'shards.')
    parser.add_argument('raw', help='folder with train/instances.json and '
                        'train/JPEGImages')
    parser.add_argument('out', help='output folder for the shards')
    parser.add_argument('--splits', nargs='+', default=list(SPLITS),
                        choices=list(SPLITS))
    parser.add_argument('--short-side', type=int, default=320,
                        help='short side of the stored frames (default '
                        '%(default)s; 518 for the DINOv2 config)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.short_side < 1:
        raise ValueError(f'--short-side must be >= 1, got {args.short_side}')
    out = Path(args.out)
    existing = sorted(out.glob('ytvis-*.tar'))
    if existing:
        raise FileExistsError(f'{out}: already holds shards '
                              f'({existing[0].name}, ...); use an empty '
                              'folder')
    instances = load_instances(Path(args.raw) / 'train' / 'instances.json')
    for split in args.splits:
        start = time.perf_counter()
        paths = write_ytvis_split(instances,
                                  Path(args.raw) / 'train' / 'JPEGImages',
                                  out, split, args.short_side)
        print(f'{split}: {len(paths)} shards in {out} '
              f'({time.perf_counter() - start:.0f} s)')
    return 0


if __name__ == '__main__':
    run_cli(main)
