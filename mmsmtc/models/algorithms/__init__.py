from .smtc import SMTC, clip_frame_indices
from .smtc_optim_constructor import (SMTCOptimWrapperConstructor,
                                     smtc_param_groups)

__all__ = [
    'SMTC', 'SMTCOptimWrapperConstructor', 'clip_frame_indices',
    'smtc_param_groups'
]
