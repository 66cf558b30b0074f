from .linear import Linear, use_fast_cpu_linear

__all__ = ['Linear', 'use_fast_cpu_linear']
