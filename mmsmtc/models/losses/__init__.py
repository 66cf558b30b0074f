from .bba_losses import BbAMotionConsistencyLoss, BbASemanticConsistencyLoss
from .correspondence_losses import (ChromaReconstructionLoss,
                                    GlobalCorrelationDistillLoss,
                                    LocalCorrelationDistillLoss)
from .feature_reconstruction_loss import FeatureReconstructionLoss
from .info_nce_loss import InfoNCELoss
from .instance_consistency_loss import (InstanceConsistencyLoss,
                                        valid_instance_mask)
from .semantic_consistency_loss import SemanticConsistencyLoss
from .slot_diversity_loss import SlotDiversityLoss
from .temporal_similarity_loss import (TemporalSimilarityLoss,
                                       temporal_similarity_targets)

__all__ = [
    'BbAMotionConsistencyLoss', 'BbASemanticConsistencyLoss',
    'ChromaReconstructionLoss', 'FeatureReconstructionLoss',
    'GlobalCorrelationDistillLoss', 'InfoNCELoss', 'InstanceConsistencyLoss',
    'LocalCorrelationDistillLoss', 'SemanticConsistencyLoss',
    'SlotDiversityLoss', 'TemporalSimilarityLoss',
    'temporal_similarity_targets', 'valid_instance_mask'
]
