"""Test-time video segmentors: one whole video per sample."""
from .checkpoint_fit import load_strict, read_state_dict, select_prefix
from .label_propagation_segmentor import (LABEL_TYPES,
                                          LabelPropagationSegmentor)
from .object_discovery_segmentor import ObjectDiscoverySegmentor

__all__ = [
    'LABEL_TYPES', 'LabelPropagationSegmentor', 'ObjectDiscoverySegmentor',
    'load_strict', 'read_state_dict', 'select_prefix'
]
