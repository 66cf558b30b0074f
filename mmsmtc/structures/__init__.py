from .video_data_sample import VideoDataSample, video_name

__all__ = ['VideoDataSample', 'video_name']
