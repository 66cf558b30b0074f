"""The synthetic video benchmark: mmsmtc's embedded default data.

Procedurally generated videos of textured objects (ellipses, polygons,
stars, blobs) that move, turn, scale and occlude each other over a drifting
textured background, with exact instance masks, part masks and keypoint
tracks, written in the YouTube-VOS, DAVIS-2017, JHMDB and VIP layouts. See
:mod:`.benchmark` for the defaults and the output tree and
:mod:`.layouts` for the file names; ``tools/data/make_synthetic.py`` is
the command line.

Modules, one job each: :mod:`.shapes` (outlines), :mod:`.textures`,
:mod:`.scene` (scene description and motion), :mod:`.sampling` (random
scenes), :mod:`.render` (frames, masks, keypoints), :mod:`.files`
(reproducible writers), :mod:`.layouts` (dataset layouts),
:mod:`.benchmark` (the whole set).
"""
from .benchmark import (DEFAULT_NUM_FRAMES, DEFAULT_NUM_TRAIN, DEFAULT_NUM_VAL,
                        DEFAULT_SEED, DEFAULT_SIZE,
                        generate_synthetic_benchmark, parse_size,
                        render_synthetic_video)
from .movi_shards import write_synthetic_movi_shards
from .render import RenderedVideo, render_video
from .sampling import sample_scene

__all__ = [
    'DEFAULT_NUM_FRAMES', 'DEFAULT_NUM_TRAIN', 'DEFAULT_NUM_VAL',
    'DEFAULT_SEED', 'DEFAULT_SIZE', 'RenderedVideo',
    'generate_synthetic_benchmark', 'parse_size', 'render_synthetic_video',
    'render_video', 'sample_scene', 'write_synthetic_movi_shards'
]
