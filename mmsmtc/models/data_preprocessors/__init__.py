from .video_data_preprocessor import VideoDataPreprocessor, resize_to_multiple

__all__ = ['VideoDataPreprocessor', 'resize_to_multiple']
