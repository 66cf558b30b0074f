"""Fuse each frame's features with its correlation to the previous frame."""
from typing import Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmsmtc.registry import MODELS


@MODELS.register_module()
class CorrelationFusion(BaseModule):
    """Add the projected correlation with the previous frame to every frame.

    For a clip of ``T`` frames with features ``x[t]`` of shape ``(C, h, w)``
    (``L = h * w`` positions), the previous frame is taken cyclically
    (frame 0 pairs with frame ``T - 1``, as ``torch.roll(..., 1, dim=1)`` in
    the official SMTC code) and resized bilinearly
    (``align_corners=False``) to a fixed ``grid_size`` of ``G = gh * gw``
    positions, ``p[t] = resize(x[t - 1]) : (C, G)``. Then::

        corr[t][g, l] = sum_c p[t][c, g] * x[t][c, l]        # (G, L)
        out[t][o, l]  = x[t][o, l] + sum_g W[o, g] corr[t][g, l] + b[o]

    with ``W: (C, G)`` and ``b: (C,)`` the learnt projection
    (``transport_proj``, a kernel-1 ``Conv1d`` in the official code).

    Why a fixed grid: the projection mixes the ``G`` correlation channels,
    so ``G`` must not depend on the input size. The official model resizes
    the previous frame's keys to ``(H_train // 16, W_train // 16)`` fixed at
    construction (16 x 16 for its 256 x 256 training). At 256 x 256 a
    ViT-S/16 already yields a 16 x 16 grid, so the resize is the identity
    (bilinear with ``align_corners=False`` at scale 1 samples every pixel
    centre exactly) and this module computes exactly the official
    correlation. At any other input size (e.g. 480 x 864 -> 30 x 54 tokens)
    the previous frame is down- or up-sampled to 16 x 16 while the current
    frame keeps its full resolution: again exactly what the official
    model does when it is evaluated at a size other than its training size.

    Args:
        in_channels (int): ``C``, channels of the input features.
        grid_size (int | tuple[int, int]): ``(gh, gw)`` of the resized
            previous frame. Defaults to 16 (official 256 x 256 training with
            stride 16).
        init_cfg (dict, optional): MMEngine initialisation config. The
            default ``nn.Linear`` initialisation equals that of the official
            ``nn.Conv1d(G, C, 1)`` (Kaiming-uniform with the same fan-in).
    """

    def __init__(self,
                 in_channels: int,
                 grid_size: Union[int, Sequence[int]] = 16,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(grid_size, int):
            grid_size = (grid_size, grid_size)
        self.grid_size: Tuple[int, int] = tuple(grid_size)
        if len(self.grid_size) != 2 or min(self.grid_size) < 1:
            raise ValueError('grid_size must be a positive int or a pair of '
                             f'positive ints, got {grid_size!r}')
        self.in_channels = in_channels
        num_grid = self.grid_size[0] * self.grid_size[1]
        self.transport_proj = nn.Linear(num_grid, in_channels)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Fuse every frame with its cyclic predecessor.

        Args:
            feats (Tensor): ``(B, T, C, h, w)`` per-frame features.

        Returns:
            Tensor: ``(B, T, C, h, w)`` fused features.
        """
        if feats.dim() != 5 or feats.shape[2] != self.in_channels:
            raise ValueError(
                'CorrelationFusion expects features of shape (B, T, '
                f'{self.in_channels}, h, w), got {tuple(feats.shape)}')
        batch, frames, channels, height, width = feats.shape
        flat = feats.reshape(batch * frames, channels, height, width)
        prev = F.interpolate(flat,
                             self.grid_size,
                             mode='bilinear',
                             align_corners=False)
        prev = prev.reshape(batch, frames, channels, -1).roll(1, dims=1)
        prev = prev.reshape(batch * frames, channels, -1)
        correlation = torch.einsum('ncg,ncl->ngl', prev, flat.flatten(2))
        projected = torch.einsum('og,ngl->nol', self.transport_proj.weight,
                                 correlation)
        projected = projected + self.transport_proj.bias[:, None]
        return feats + projected.reshape(feats.shape)
