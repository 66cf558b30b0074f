"""Propagate a first-frame mask through your own video.

``python tools/demo/propagate.py VIDEO CONFIG CHECKPOINT --first-mask
MASK.png [--out DIR]``

(the same ``CONFIG CHECKPOINT`` as ``tools/test.py``; CHECKPOINT may be
``none``).

VIDEO is an mp4/avi file or a folder of jpg/png frames (sorted by name);
MASK.png is an indexed PNG of frame 0 with any object ids (0 is the
background), e.g. {0, 3, 7}; a mask off by at most 2 pixels in size is
cropped/zero-padded, a larger mismatch is an error. Writes
``<out>/masks/<frame>.png`` (the same ids and DAVIS-palette colours),
``<out>/overlay.mp4`` (PNG frames in ``<out>/overlay/`` where OpenCV has no
mp4v codec) and the log ``<out>/demo.log``. ``--max-frames`` and
``--max-side`` bound the work on long or large videos. The default ``--out``
is ``work_dirs/demo/<video name>``.
"""
import argparse

from mmsmtc.apis import (init_video_segmentor, open_video, read_first_mask,
                         save_video_predictions, segment_video,
                         video_name_from_path)
from mmsmtc.utils.launch import add_demo_args, prepare_demo_output, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_demo_args(parser, config_help='label-propagation test config')
    parser.add_argument('--first-mask', required=True,
                        help='indexed PNG of the objects in frame 0')
    return parser.parse_args(argv)


def run(args) -> None:
    """Propagate ``args.first_mask`` through ``args.video``; write the
    outputs."""
    name = video_name_from_path(args.video)
    frames, names, fps = open_video(args.video, args.max_frames,
                                    args.max_side)
    first_mask = read_first_mask(args.first_mask, frames)
    out_dir = prepare_demo_output(args.out, name)
    model = init_video_segmentor(args.config, args.checkpoint, 'propagation',
                                 args.device, args.seed)
    masks = segment_video(model, frames, names, name, first_mask)
    paths = save_video_predictions(out_dir, frames, names, masks, fps)
    print(f'{len(names)} frames: masks in {paths["masks"]}, overlay '
          f'{paths["overlay"]}')


def main(argv=None):
    run(parse_args(argv))


if __name__ == '__main__':
    run_cli(main)
