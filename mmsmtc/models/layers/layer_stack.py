"""Layers applied in turn under the official MLP's state-dict names."""
from typing import Iterable

import torch
from torch import nn


class LayerStack(nn.Module):
    """``nn.Sequential(*layers)`` held as ``layers``, so that the parameters
    are named ``<attribute>.layers.<i>.*`` as in the official VideoSAUR /
    DINOSAUR ``MLP`` (renderer, MLP decoder).

    The layers keep torch's default init: the official ``MLP`` calls
    ``utils.init_parameters`` on its ``nn.Sequential``, which initialises
    nothing (it only touches modules with a ``weight`` or ``bias`` of their
    own), so its Linear biases are not zeroed.

    Args:
        layers (Iterable[nn.Module]): Applied in order to ``(..., C)``.
    """

    def __init__(self, layers: Iterable[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
