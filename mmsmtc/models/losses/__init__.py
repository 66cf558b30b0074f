from .correspondence_losses import (ChromaReconstructionLoss,
                                    GlobalCorrelationDistillLoss,
                                    LocalCorrelationDistillLoss)
from .info_nce_loss import InfoNCELoss
from .instance_consistency_loss import (InstanceConsistencyLoss,
                                        valid_instance_mask)
from .semantic_consistency_loss import SemanticConsistencyLoss
from .slot_diversity_loss import SlotDiversityLoss

__all__ = [
    'ChromaReconstructionLoss', 'GlobalCorrelationDistillLoss',
    'InfoNCELoss', 'InstanceConsistencyLoss', 'LocalCorrelationDistillLoss',
    'SemanticConsistencyLoss', 'SlotDiversityLoss', 'valid_instance_mask'
]
