from .bba_losses import BbAMotionConsistencyLoss, BbASemanticConsistencyLoss
from .instance_consistency_loss import (InstanceConsistencyLoss,
                                        valid_instance_mask)
from .semantic_consistency_loss import SemanticConsistencyLoss
from .slot_diversity_loss import SlotDiversityLoss

__all__ = [
    'BbAMotionConsistencyLoss', 'BbASemanticConsistencyLoss',
    'InstanceConsistencyLoss', 'SemanticConsistencyLoss', 'SlotDiversityLoss',
    'valid_instance_mask'
]
