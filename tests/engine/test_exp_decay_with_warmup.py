"""The VideoSAUR / DINOSAUR learning-rate schedule."""
import pytest
import torch

from mmsmtc.engine.schedulers import (ExpDecayWithWarmupLR,
                                      exp_decay_with_warmup_factor)
from mmsmtc.registry import PARAM_SCHEDULERS
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()


@pytest.mark.parametrize('step, factor', [(0, 0.0), (1250, 0.5),
                                          (2500, 1.0),
                                          (51250, 0.5**0.5),
                                          (100000, 0.5)])
def test_video_factors(step, factor):
    assert exp_decay_with_warmup_factor(step, 2500, 100000) == pytest.approx(
        factor, abs=1e-12)


def test_coco_factor_at_500k():
    assert exp_decay_with_warmup_factor(500000, 10000, 100000) == (
        pytest.approx(0.5**(490000 / 90000)))


def test_scheduler_sets_the_factor_of_each_step():
    """lr of iteration s is base * factor(s), from 0 at the first step
    (the official LambdaLR), in every parameter group."""
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    for param in params:
        param.grad = torch.zeros(1)
    optimizer = torch.optim.Adam([dict(params=[params[0]], lr=4e-4),
                                  dict(params=[params[1]], lr=1e-4)])
    scheduler = PARAM_SCHEDULERS.build(
        dict(type='ExpDecayWithWarmupLR', optimizer=optimizer, warmup_steps=4,
             decay_steps=12, by_epoch=False))
    assert isinstance(scheduler, ExpDecayWithWarmupLR)
    for step in range(20):
        for group, base in zip(optimizer.param_groups, (4e-4, 1e-4)):
            expected = base * exp_decay_with_warmup_factor(step, 4, 12)
            assert group['lr'] == pytest.approx(expected, rel=1e-12,
                                                abs=1e-18)
        optimizer.step()
        scheduler.step()


def test_bad_steps_are_refused():
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    with pytest.raises(ValueError, match='warmup_steps < decay_steps'):
        ExpDecayWithWarmupLR(optimizer, warmup_steps=10, decay_steps=10)
