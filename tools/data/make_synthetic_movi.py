"""Write small synthetic shards in VideoSAUR's MOVi layout.

Example::

    python tools/data/make_synthetic_movi.py data/synthetic/movi
    python tools/data/make_synthetic_movi.py OUT --train 16 --val 4 \\
        --frames 24 --size 128 --per-shard 4 --seed 0

Writes ``OUT/movi_c-train-NNNNNN.tar`` (``<i>.video.npy``, uint8
``(T, S, S, 3)``) and ``OUT/movi_c-validation-NNNNNN.tar`` (also
``<i>.segmentations.npy``, uint8 ``(T, S, S, 1)`` ids, 0 background): the
synthetic benchmark's moving textured shapes, identical for the same
arguments. configs/_base_/datasets/synthetic_movi.py reads them.
"""
import argparse

from mmsmtc.datasets.synthetic import write_synthetic_movi_shards
from mmsmtc.utils.launch import run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Synthetic videos as MOVi-format shards.')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--train', type=int, default=8)
    parser.add_argument('--val', type=int, default=4)
    parser.add_argument('--frames', type=int, default=24)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--per-shard', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--prefix', default='movi_c')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    written = write_synthetic_movi_shards(args.out, args.train, args.val,
                                          args.frames, args.size,
                                          args.per_shard, args.seed,
                                          args.prefix)
    for split, paths in written.items():
        print(f'{split}: {len(paths)} shards in {args.out}')
    return 0


if __name__ == '__main__':
    run_cli(main)
