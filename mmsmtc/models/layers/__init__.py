from .layer_stack import LayerStack
from .linear import Linear, use_fast_cpu_linear

__all__ = ['LayerStack', 'Linear', 'use_fast_cpu_linear']
