from .clip_photometric_augment import ClipPhotometricAugment
from .smtc import SMTC, clip_frame_indices
from .smtc_optim_constructor import (SMTCOptimWrapperConstructor,
                                     smtc_param_groups)

__all__ = [
    'ClipPhotometricAugment', 'SMTC', 'SMTCOptimWrapperConstructor',
    'clip_frame_indices', 'smtc_param_groups'
]
