"""Running: the runner, the video test loop and its result files."""
from .test_results import (OVERALL_ROW, format_table, video_scores,
                           write_test_results)
from .video_runner import VideoRunner
from .video_test_loop import VideoTestLoop

__all__ = [
    'OVERALL_ROW', 'VideoRunner', 'VideoTestLoop',
    'format_table', 'video_scores', 'write_test_results'
]
