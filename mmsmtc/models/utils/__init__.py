"""Helpers shared by mmsmtc's models (no registered modules)."""
from .checkpoint_fit import load_strict
from .clips import check_video_clips, clip_frame_indices, stream_clips
from .seeding import randn_like_device, video_generator, video_seed
from .teacher import EMATeacher

__all__ = [
    'EMATeacher', 'check_video_clips', 'clip_frame_indices', 'load_strict',
    'randn_like_device', 'stream_clips', 'video_generator', 'video_seed'
]
