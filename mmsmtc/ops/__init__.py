"""Tensor operations shared by models and inference APIs."""
from .color import rgb_to_lab
from .correlation import local_correlation, window_mask, windowed_affinity
from .cpu_gemm import linear, onednn_linear_preferred
from .resize import floor_to_multiple, resize_frames, resize_to_multiple

__all__ = [
    'floor_to_multiple', 'linear', 'local_correlation',
    'onednn_linear_preferred', 'resize_frames', 'resize_to_multiple',
    'rgb_to_lab', 'window_mask', 'windowed_affinity'
]
