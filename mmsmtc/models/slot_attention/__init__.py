"""Slot-attention components of VideoSAUR / DINOSAUR: initial slots, the
slot-attention corrector, the transformer of predictor and allocator, and
the recurrence over frames."""
from .corrector import SlotAttentionCorrector
from .initializer import LearnedGaussianSlotInit
from .recurrent_processor import RecurrentSlotProcessor
from .transformer import PreNormTransformerBlock, QKVAttention, SlotTransformer

__all__ = [
    'LearnedGaussianSlotInit', 'PreNormTransformerBlock', 'QKVAttention',
    'RecurrentSlotProcessor', 'SlotAttentionCorrector', 'SlotTransformer'
]
