"""SlotMixer decoder (Sajjadi et al., OSRT; VideoSAUR's video decoder)."""
from typing import Dict, Sequence, Union

import torch
from torch import nn

from mmsmtc.registry import MODELS
from ..layers import LayerStack


@MODELS.register_module()
class SlotMixerDecoder(nn.Module):
    """Mix the slots per patch position, then render each position.

    For slots ``s (B, K, D)`` and ``N`` patch positions::

        x      = allocator(pos_emb, memory=norm_memory(s))   (B, N, D)
                 # cross-attention only: positions never attend to each other
        A      = softmax over slots of
                 to_q(norm_q(x)) to_k(norm_k(s))^T / sqrt(D)  (B, N, K)
        masks  = A^T                                          (B, K, N)
        mixed  = A s + pos_emb                                (B, N, D)
        output = output_transform(renderer(mixed))            (B, N, C_out)

    The renderer is ``Linear -> ReLU`` per width of ``renderer_dims`` (a
    ReLU after every layer, the official ``final_activation``).

    Args:
        slot_dim (int): ``D``.
        out_channels (int): ``C_out`` (VideoSAUR: the reconstructed feature
            channels, if any, then the ``N`` next-frame similarity logits).
        num_patches (int): ``N``.
        allocator (dict | nn.Module): A cross-attention
            :class:`~mmsmtc.models.slot_attention.SlotTransformer` of width
            ``D`` (2 blocks MOVi, 3 YT-VIS, 4 heads).
        renderer_dims (Sequence[int]): Renderer widths (MOVi
            ``(1024,) * 4``, YT-VIS ``(1024,) * 3``).

    Parameters (official names): ``pos_emb (1, N, D)``, ``to_q``, ``to_k``,
    ``norm_q``, ``norm_k``, ``norm_memory``, ``allocator.blocks.*``,
    ``renderer.layers.{0,2,...}``, ``output_transform``.
    Init as officially: xavier-uniform ``to_q``, ``to_k`` and
    ``output_transform`` (zero bias); the renderer keeps torch's default
    init (:class:`~mmsmtc.models.layers.LayerStack`).
    """

    def __init__(self, slot_dim: int, out_channels: int, num_patches: int,
                 allocator: Union[dict, nn.Module],
                 renderer_dims: Sequence[int]) -> None:
        super().__init__()
        if not renderer_dims:
            raise ValueError('renderer_dims needs at least one width')
        self.num_patches = num_patches
        self.scale = slot_dim**-0.5
        self.allocator = allocator if isinstance(
            allocator, nn.Module) else MODELS.build(allocator)
        self.pos_emb = nn.Parameter(
            torch.randn(1, num_patches, slot_dim) * slot_dim**-0.5)
        self.to_q = nn.Linear(slot_dim, slot_dim, bias=False)
        self.to_k = nn.Linear(slot_dim, slot_dim, bias=False)
        self.norm_q = nn.LayerNorm(slot_dim)
        self.norm_k = nn.LayerNorm(slot_dim)
        self.norm_memory = nn.LayerNorm(slot_dim)
        layers, width = [], slot_dim
        for next_width in renderer_dims:
            layers += [nn.Linear(width, next_width), nn.ReLU()]
            width = next_width
        self.renderer = LayerStack(layers)
        self.output_transform = nn.Linear(width, out_channels)
        for linear in (self.to_q, self.to_k, self.output_transform):
            nn.init.xavier_uniform_(linear.weight)
        nn.init.zeros_(self.output_transform.bias)

    def forward(self, slots: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``(B, K, D)`` slots -> ``reconstruction (B, N, C_out)`` and
        ``masks (B, K, N)`` (softmax over the ``K`` slots)."""
        pos_emb = self.pos_emb.expand(len(slots), -1, -1)
        queries = self.allocator(pos_emb, self.norm_memory(slots))
        logits = self.to_q(self.norm_q(queries)) @ self.to_k(
            self.norm_k(slots)).transpose(1, 2) * self.scale
        attention = logits.softmax(dim=-1)
        mixed = attention @ slots + pos_emb
        return dict(
            reconstruction=self.output_transform(self.renderer(mixed)),
            masks=attention.transpose(1, 2))
