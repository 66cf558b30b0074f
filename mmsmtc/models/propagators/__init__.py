"""Label propagators: backbone-agnostic inference components."""
from .label_propagator import LabelPropagator

__all__ = ['LabelPropagator']
