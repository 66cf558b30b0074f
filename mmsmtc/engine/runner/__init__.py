"""Test-time running: the video test loop, its result files, overlays."""
from .overlay_hook import VideoOverlayHook
from .test_results import (OVERALL_ROW, format_table, video_scores,
                           write_test_results)
from .video_test_loop import VideoTestLoop

__all__ = [
    'OVERALL_ROW', 'VideoOverlayHook', 'VideoTestLoop', 'format_table',
    'video_scores', 'write_test_results'
]
