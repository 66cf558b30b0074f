from .correlation_fusion import CorrelationFusion
from .patch_feature_mlp import PatchFeatureMLP

__all__ = ['CorrelationFusion', 'PatchFeatureMLP']
