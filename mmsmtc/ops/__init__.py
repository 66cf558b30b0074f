"""Tensor operations shared by models and inference APIs."""
from .cpu_gemm import linear, onednn_linear_preferred

__all__ = ['linear', 'onednn_linear_preferred']
