from .correlation_fusion import CorrelationFusion
from .patch_feature_mlp import PatchFeatureMLP
from .projection_mlp import ProjectionMLP

__all__ = ['CorrelationFusion', 'PatchFeatureMLP', 'ProjectionMLP']
