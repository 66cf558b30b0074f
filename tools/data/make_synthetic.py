"""Generate mmsmtc's synthetic video benchmark.

Example::

    python tools/data/make_synthetic.py data/synthetic
    python tools/data/make_synthetic.py data/synthetic --train 32 --val 6 \\
        --frames 20 --size 128x224 --seed 0

Writes YouTube-VOS-style training frames and DAVIS-2017, JHMDB and VIP
style validation sets (see ``mmsmtc.datasets.synthetic``); reruns with the
same arguments give byte-identical files. An argument the generator refuses
or an output folder that is not empty prints ``error: ...`` and exits with
status 1; a malformed command line exits with status 2.
"""
import argparse
import time

from mmsmtc.datasets.synthetic import (DEFAULT_NUM_FRAMES, DEFAULT_NUM_TRAIN,
                                       DEFAULT_NUM_VAL, DEFAULT_SEED,
                                       DEFAULT_SIZE,
                                       generate_synthetic_benchmark,
                                       parse_size)
from mmsmtc.utils.launch import run_cli

OUTPUT_TREE = """output:
  OUT/YTVOS/train/JPEGImages/<video>/NNNNN.jpg      training videos
      (named 00000, 00005, 00010, ... like YouTube-VOS frames)
  OUT/DAVIS/{JPEGImages,Annotations,Annotations_unsupervised}/480p/<seq>/
      validation videos (the folder is named 480p whatever --size is;
      ImageSets/{2016,2017}/val.txt lists them, train.txt is empty)
  OUT/JHMDB/Rename_Images/moving_shapes/<video>/NNNNN.png (1-based) and
      joint_positions/.../joint_positions.mat (pos_img (2, 8, T), 1-based),
      splits/moving_shapes_test_split1.txt, testlist_split1.txt (CRW)
  OUT/VIP/VIP_Fine/{Images,Annotations/Category_ids}/<video>/ and
      lists/val_videos.txt (13 part classes, ids < 20)
  OUT/synthetic_meta.json                            what was generated
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the synthetic video benchmark (YouTube-VOS, '
        'DAVIS-2017, JHMDB and VIP layouts) under OUT. Defaults give a set '
        'for training a tiny model on a CPU in minutes.',
        epilog=OUTPUT_TREE,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('out', help='output folder (absent or empty)')
    parser.add_argument('--train',
                        type=int,
                        default=DEFAULT_NUM_TRAIN,
                        help='training videos (default: %(default)s)')
    parser.add_argument('--val',
                        type=int,
                        default=DEFAULT_NUM_VAL,
                        help='validation videos (default: %(default)s)')
    parser.add_argument('--frames',
                        type=int,
                        default=DEFAULT_NUM_FRAMES,
                        help='frames per video (default: %(default)s)')
    parser.add_argument('--size',
                        default='{}x{}'.format(*DEFAULT_SIZE),
                        help='frame size HxW (default: %(default)s)')
    parser.add_argument('--seed',
                        type=int,
                        default=DEFAULT_SEED,
                        help='seed of the whole set (default: %(default)s)')
    parser.add_argument('--overwrite',
                        action='store_true',
                        help='replace a synthetic set already in OUT')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    start = time.perf_counter()
    summary = generate_synthetic_benchmark(args.out,
                                           num_train=args.train,
                                           num_val=args.val,
                                           num_frames=args.frames,
                                           size=parse_size(args.size),
                                           seed=args.seed,
                                           overwrite=args.overwrite)
    elapsed = time.perf_counter() - start
    height, width = summary['size']
    print(f"Wrote {summary['num_files']} files to {summary['out_dir']} in "
          f'{elapsed:.1f} s')
    print(f"  YTVOS/  {len(summary['train_videos'])} training videos")
    print(f"  DAVIS/, JHMDB/, VIP/  {len(summary['val_videos'])} validation "
          f"videos, {sum(summary['num_objects'].values())} objects, "
          f"{summary['num_keypoints']} keypoints per video, "
          f"{summary['num_part_classes']} part classes")
    print(f"  {summary['num_frames']} frames of {height}x{width} per video, "
          f"seed {summary['seed']}")
    return 0


if __name__ == '__main__':
    run_cli(main)
