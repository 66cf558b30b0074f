from .correlation_fusion import CorrelationFusion

__all__ = ['CorrelationFusion']
