"""High-level inference APIs of mmsmtc."""
from .propagation import (StreamingLabelPropagation, propagate_labels,
                          propagate_labels_dense)

__all__ = [
    'StreamingLabelPropagation', 'propagate_labels', 'propagate_labels_dense'
]
