"""DINOSAUR's MLP decoder: every slot decodes every patch independently."""
from typing import Dict, Sequence

import torch
from torch import nn

from mmsmtc.registry import MODELS
from ..layers import LayerStack


@MODELS.register_module()
class PatchMLPDecoder(nn.Module):
    """Per slot and patch position, ``MLP(slot + pos_emb)`` gives
    ``out_channels`` features and one alpha logit; the masks are the
    softmax of the alphas over the slots and the reconstruction their
    mask-weighted sum (the official ``MLPDecoder``).

    Args:
        slot_dim (int): ``D``.
        out_channels (int): Reconstructed feature channels ``C``.
        num_patches (int): ``N``.
        hidden_dims (Sequence[int]): MLP widths (DINOSAUR
            ``(2048, 2048, 2048)``), ReLU after each, none after the last
            ``Linear(., C + 1)``.

    Parameters (official names): ``pos_emb (1, 1, N, D)``,
    ``mlp.layers.{0,2,...}`` (torch's default init, as officially:
    :class:`~mmsmtc.models.layers.LayerStack`).
    """

    def __init__(self, slot_dim: int, out_channels: int, num_patches: int,
                 hidden_dims: Sequence[int]) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.pos_emb = nn.Parameter(
            torch.randn(1, 1, num_patches, slot_dim) * slot_dim**-0.5)
        layers, width = [], slot_dim
        for next_width in hidden_dims:
            layers += [nn.Linear(width, next_width), nn.ReLU()]
            width = next_width
        layers.append(nn.Linear(width, out_channels + 1))
        self.mlp = LayerStack(layers)

    def forward(self, slots: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``(B, K, D)`` slots -> ``reconstruction (B, N, C)`` and
        ``masks (B, K, N)`` (softmax over slots)."""
        decoded = self.mlp(slots.unsqueeze(2) + self.pos_emb)
        features, alpha = decoded.split((self.out_channels, 1), dim=-1)
        masks = alpha.softmax(dim=1)
        return dict(
            reconstruction=(features * masks).sum(dim=1),
            masks=masks.squeeze(-1))
