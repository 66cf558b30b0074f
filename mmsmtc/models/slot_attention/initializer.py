"""Learned-Gaussian initial slots (VideoSAUR / DINOSAUR ``RandomInit``)."""
from typing import Optional

import torch
from torch import nn

from mmsmtc.registry import MODELS
from ..utils import randn_like_device


@MODELS.register_module()
class LearnedGaussianSlotInit(nn.Module):
    """``slots = mean + exp(log_std) * noise``, ``noise ~ N(0, 1)``.

    Drawn in training and at test time alike. ``mean`` starts at 0 and
    ``log_std`` at ``log(initial_std)`` (default ``D ** -0.5``); both are
    ``(1, 1, D)`` and trained.

    Args:
        num_slots (int): ``K``; a test config may change it (the parameters
            do not depend on it).
        slot_dim (int): ``D``.
        initial_std (float, optional): Starting standard deviation.
    """

    def __init__(self,
                 num_slots: int,
                 slot_dim: int,
                 initial_std: Optional[float] = None) -> None:
        super().__init__()
        self.num_slots = num_slots
        self.slot_dim = slot_dim
        initial_std = slot_dim**-0.5 if initial_std is None else initial_std
        self.mean = nn.Parameter(torch.zeros(1, 1, slot_dim))
        self.log_std = nn.Parameter(
            torch.full((1, 1, slot_dim), float(initial_std)).log())

    def forward(self,
                batch_size: int,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """``(B, K, D)`` initial slots; the noise comes from ``generator``
        (a per-video CPU generator at test time) or the global one."""
        shape = (batch_size, self.num_slots, self.slot_dim)
        if generator is None:
            noise = torch.randn(shape, device=self.mean.device,
                                dtype=self.mean.dtype)
        else:
            noise = randn_like_device(shape, generator, self.mean)
        return self.mean + noise * self.log_std.exp()
