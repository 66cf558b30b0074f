from .correlation_fusion import CorrelationFusion
from .projection_mlp import ProjectionMLP

__all__ = ['CorrelationFusion', 'ProjectionMLP']
