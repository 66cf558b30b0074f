"""Discover the objects of your own video with an SMTC test config.

``python tools/demo/discover.py VIDEO --config C --checkpoint K [--out DIR]``

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
import sys
from pathlib import Path

import numpy as np
from mmengine.logging import MMLogger

from mmsmtc.apis import (init_video_segmentor, open_video,
                         save_video_predictions, segment_video, video_name)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('video', help='mp4/avi file or folder of frames')
    parser.add_argument('--config', required=True,
                        help='object-discovery test config')
    parser.add_argument('--checkpoint', required=True,
                        help="trained checkpoint, or 'none'")
    parser.add_argument('--out', help='output folder (default: '
                        'work_dirs/demo/<video name>)')
    parser.add_argument('--device', help='cpu, cuda, cuda:1... (default: '
                        'cuda if available)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random generators (default: 0)')
    parser.add_argument('--max-frames', type=int,
                        help='only the first N frames')
    parser.add_argument('--max-side', type=int,
                        help='downscale frames so no side exceeds N pixels')
    return parser.parse_args()


def run(args) -> None:
    """Discover the objects of ``args.video`` and write the outputs."""
    name = video_name(args.video)
    frames, names, fps = open_video(args.video, args.max_frames,
                                    args.max_side)
    out_dir = Path(args.out or Path('work_dirs', 'demo', name))
    out_dir.mkdir(parents=True, exist_ok=True)
    # Weight-initialisation details go to the log file, not the terminal.
    MMLogger.get_instance('mmsmtc_demo', log_file=str(out_dir / 'demo.log'))
    model = init_video_segmentor(args.config, args.checkpoint, 'discovery',
                                 args.device, args.seed)
    masks = segment_video(model, frames, names, name)
    paths = save_video_predictions(out_dir, frames, names, masks, fps)
    objects = np.count_nonzero(np.unique(masks))
    print(f'{len(names)} frames, {objects} objects: masks in '
          f'{paths["masks"]}, overlay {paths["overlay"]}')


def main():
    args = parse_args()
    try:
        run(args)
    except (FileNotFoundError, ValueError) as error:
        # Bad input (video, mask, config, checkpoint): the message names it.
        sys.exit(f'error: {error}')


if __name__ == '__main__':
    main()
