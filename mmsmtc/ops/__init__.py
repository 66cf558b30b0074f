"""Tensor operations shared by models and inference APIs."""
from .cpu_gemm import linear, onednn_linear_preferred
from .resize import floor_to_multiple, resize_frames, resize_to_multiple

__all__ = [
    'floor_to_multiple', 'linear', 'onednn_linear_preferred', 'resize_frames',
    'resize_to_multiple'
]
