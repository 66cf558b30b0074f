from .bba_losses import BbAMotionConsistencyLoss, BbASemanticConsistencyLoss
from .feature_reconstruction_loss import FeatureReconstructionLoss
from .instance_consistency_loss import (InstanceConsistencyLoss,
                                        valid_instance_mask)
from .semantic_consistency_loss import SemanticConsistencyLoss
from .slot_diversity_loss import SlotDiversityLoss
from .temporal_similarity_loss import (TemporalSimilarityLoss,
                                       temporal_similarity_targets)

__all__ = [
    'BbAMotionConsistencyLoss', 'BbASemanticConsistencyLoss',
    'FeatureReconstructionLoss', 'InstanceConsistencyLoss',
    'SemanticConsistencyLoss', 'SlotDiversityLoss', 'TemporalSimilarityLoss',
    'temporal_similarity_targets', 'valid_instance_mask'
]
