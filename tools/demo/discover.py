"""Discover the objects of your own video with an SMTC test config.

``python tools/demo/discover.py VIDEO CONFIG CHECKPOINT [--out DIR]``

(the same ``CONFIG CHECKPOINT`` as ``tools/test.py``; CHECKPOINT may be
``none``).

VIDEO is an mp4/avi file or a folder of jpg/png frames (sorted by name).
Writes ``<out>/masks/<frame>.png`` (indexed PNGs, one DAVIS-palette colour
per discovered object, stable over the video), ``<out>/overlay.mp4``
(PNG frames in ``<out>/overlay/`` where OpenCV has no mp4v codec) and the
log ``<out>/demo.log``. Frames are
decoded one clip at a time; ``--max-frames`` and ``--max-side`` bound the
work on long or large videos. The default ``--out`` is
``work_dirs/demo/<video name>``.
"""
import argparse

import numpy as np

from mmsmtc.apis import (init_video_segmentor, open_video,
                         save_video_predictions, segment_video,
                         video_name_from_path)
from mmsmtc.utils.launch import add_demo_args, prepare_demo_output, run_cli


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_demo_args(parser, config_help='object-discovery test config')
    return parser.parse_args(argv)


def run(args) -> None:
    """Discover the objects of ``args.video`` and write the outputs."""
    name = video_name_from_path(args.video)
    frames, names, fps = open_video(args.video, args.max_frames,
                                    args.max_side)
    out_dir = prepare_demo_output(args.out, name)
    model = init_video_segmentor(args.config, args.checkpoint, 'discovery',
                                 args.device, args.seed)
    masks = segment_video(model, frames, names, name)
    paths = save_video_predictions(out_dir, frames, names, masks, fps)
    objects = np.count_nonzero(np.unique(masks))
    print(f'{len(names)} frames, {objects} objects: masks in '
          f'{paths["masks"]}, overlay {paths["overlay"]}')


def main(argv=None):
    run(parse_args(argv))


if __name__ == '__main__':
    run_cli(main)
