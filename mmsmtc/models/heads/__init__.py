from .two_stage_slot_attention import TwoStageSlotAttention

__all__ = ['TwoStageSlotAttention']
