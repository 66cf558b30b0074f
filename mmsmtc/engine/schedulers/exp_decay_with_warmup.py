"""Linear warm-up then exponential decay (VideoSAUR / DINOSAUR recipe)."""
from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from mmsmtc.registry import PARAM_SCHEDULERS


def exp_decay_with_warmup_factor(step: int, warmup_steps: int,
                                 decay_steps: int) -> float:
    """``step / warmup_steps`` below ``warmup_steps``, else
    ``0.5 ** ((step - warmup_steps) / (decay_steps - warmup_steps))``
    (official ``schedulers.exp_decay_with_warmup``): 0 at step 0, 1 at the
    end of the warm-up, halved every ``decay_steps - warmup_steps`` steps.
    """
    if step < warmup_steps:
        return step / warmup_steps
    return 0.5**((step - warmup_steps) / (decay_steps - warmup_steps))


@PARAM_SCHEDULERS.register_module()
class ExpDecayWithWarmupParamScheduler(_ParamScheduler):
    """Sets ``base * exp_decay_with_warmup_factor(step)`` in closed form
    (no accumulated rounding, exact from step 0 where the value is 0), per
    parameter group; stepped every iteration with ``by_epoch=False``.

    Args:
        optimizer: The (wrapped) optimizer.
        param_name (str): e.g. ``'lr'``.
        warmup_steps (int): Linear warm-up length (2500 video, 10000 COCO).
        decay_steps (int): Steps from the start at which the factor is 0.5
            (100000 in every released config).
        begin, end, last_step, by_epoch, verbose: As MMEngine's schedulers;
            the step counted is the one since ``begin``.
    """

    def __init__(self,
                 optimizer,
                 param_name: str,
                 warmup_steps: int,
                 decay_steps: int,
                 begin: int = 0,
                 end: int = INF,
                 last_step: int = -1,
                 by_epoch: bool = False,
                 verbose: bool = False) -> None:
        if warmup_steps < 1 or decay_steps <= warmup_steps:
            raise ValueError('need 1 <= warmup_steps < decay_steps, got '
                             f'warmup_steps={warmup_steps}, '
                             f'decay_steps={decay_steps}')
        self.warmup_steps = warmup_steps
        self.decay_steps = decay_steps
        super().__init__(
            optimizer,
            param_name=param_name,
            begin=begin,
            end=end,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose)

    def _get_value(self):
        factor = exp_decay_with_warmup_factor(self.last_step,
                                              self.warmup_steps,
                                              self.decay_steps)
        return [base * factor for base in self.base_values]


@PARAM_SCHEDULERS.register_module()
class ExpDecayWithWarmupLR(LRSchedulerMixin,
                           ExpDecayWithWarmupParamScheduler):
    """:class:`ExpDecayWithWarmupParamScheduler` of the learning rate."""
