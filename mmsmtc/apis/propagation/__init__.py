"""Label propagation (CRW / SMTC protocol) and its pre/post-processing."""
from .dense_reference import propagate_labels_dense
from .propagate import propagate_labels
from .streaming import StreamingLabelPropagation

__all__ = [
    'StreamingLabelPropagation', 'propagate_labels', 'propagate_labels_dense'
]
