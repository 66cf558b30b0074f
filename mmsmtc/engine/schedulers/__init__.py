from .exp_decay_with_warmup import (ExpDecayWithWarmupLR,
                                    ExpDecayWithWarmupParamScheduler,
                                    exp_decay_with_warmup_factor)

__all__ = [
    'ExpDecayWithWarmupLR', 'ExpDecayWithWarmupParamScheduler',
    'exp_decay_with_warmup_factor'
]
