from .spatio_temporal_block import SpatioTemporalBlock, head_averaged_attention
from .two_stage_slot_attention import TwoStageSlotAttention

__all__ = [
    'SpatioTemporalBlock', 'TwoStageSlotAttention', 'head_averaged_attention'
]
