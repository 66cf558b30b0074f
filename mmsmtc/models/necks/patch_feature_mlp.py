"""The encoder's output transform of VideoSAUR / DINOSAUR."""
from typing import Optional

from torch import nn

from mmsmtc.registry import MODELS
from ..layers import LayerStack


@MODELS.register_module()
class PatchFeatureMLP(LayerStack):
    """``LayerNorm(C) -> Linear(C, hidden) -> ReLU -> Linear(hidden, D)`` on
    every patch token (official ``two_layer_mlp`` with ``layer_norm``).

    Args:
        in_channels (int): ``C`` (768 for ViT-B).
        out_channels (int): ``D``, the slot dimension.
        hidden_channels (int, optional): Default ``2 * C`` (the configs).

    ``(..., N, C)`` tokens -> ``(..., N, D)`` features.

    Parameters (official names): ``layers.0`` (LayerNorm), ``layers.1``,
    ``layers.3`` (Linear), torch's default init as officially
    (:class:`~mmsmtc.models.layers.LayerStack`).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 hidden_channels: Optional[int] = None) -> None:
        hidden = 2 * in_channels if hidden_channels is None else (
            hidden_channels)
        super().__init__([
            nn.LayerNorm(in_channels),
            nn.Linear(in_channels, hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_channels)
        ])
