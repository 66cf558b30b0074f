"""Drawing predictions over frames (``tools/test.py --show-dir``)."""
from .overlay import (blend_ids, draw_keypoints, id_boundaries,
                      write_video_overlays)

__all__ = [
    'blend_ids', 'draw_keypoints', 'id_boundaries', 'write_video_overlays'
]
