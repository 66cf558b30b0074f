"""Test-time video segmentors: one whole video per sample."""
from .base import BaseVideoSegmentor
from .label_propagation_segmentor import LABEL_TYPES, LabelPropagationSegmentor
from .object_discovery_segmentor import ObjectDiscoverySegmentor

__all__ = [
    'BaseVideoSegmentor', 'LABEL_TYPES', 'LabelPropagationSegmentor',
    'ObjectDiscoverySegmentor'
]
