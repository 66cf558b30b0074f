from .backbone_lr_mult_constructor import (
    BackboneLrMultOptimWrapperConstructor, backbone_lr_mult_param_groups)

__all__ = [
    'BackboneLrMultOptimWrapperConstructor', 'backbone_lr_mult_param_groups'
]
