"""The pre-norm transformer of VideoSAUR's predictor and SlotMixer allocator.

Not ``torch.nn.MultiheadAttention``: the official ``networks.Attention``
multiplies the attention logits by ``sqrt(d_head)`` where the textbook
divides by it (``q / scale`` with ``scale = d_head ** -0.5``). Released
checkpoints were trained that way, so it is the default
(``official_logit_scale=True``); ``False`` gives the usual
``1 / sqrt(d_head)``.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from mmsmtc.registry import MODELS


class QKVAttention(nn.Module):
    """Multi-head attention with one fused ``qkv`` projection.

    Args:
        dim: Channels ``D`` of queries, keys and values (the memory of a
            cross-attention has ``D`` channels too).
        num_heads: Heads; ``D`` must be divisible by it.
        official_logit_scale: Logits times ``sqrt(D / num_heads)`` (the
            official quirk) instead of divided by it.

    Parameters: ``qkv`` ``Linear(D, 3D)`` with bias (rows ``[q; k; v]``),
    ``out_proj`` ``Linear(D, D)``.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 official_logit_scale: bool = True) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(
                f'dim {dim} is not divisible by num_heads {num_heads}')
        self.dim = dim
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.logit_scale = (head_dim**0.5
                            if official_logit_scale else head_dim**-0.5)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out_proj = nn.Linear(dim, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Official init: Xavier-uniform per projection (bound from
        ``D + D``) for ``qkv`` and ``out_proj``, zero biases."""
        bound = (6.0 / (2 * self.dim))**0.5
        nn.init.uniform_(self.qkv.weight, -bound, bound)
        nn.init.zeros_(self.qkv.bias)
        nn.init.xavier_uniform_(self.out_proj.weight)
        nn.init.zeros_(self.out_proj.bias)

    def attention_logits(self, queries: torch.Tensor,
                         memory: torch.Tensor) -> torch.Tensor:
        """``(B, L, D)`` queries, ``(B, M, D)`` memory -> ``(B, heads, L,
        M)`` scaled logits (before the softmax over ``M``)."""
        query, key, _ = self._project(queries, memory)
        return query @ key.transpose(-2, -1) * self.logit_scale

    def _project(self, queries: torch.Tensor, memory: torch.Tensor):
        weight_q, weight_kv = self.qkv.weight.split(
            [self.dim, 2 * self.dim])
        bias_q, bias_kv = self.qkv.bias.split([self.dim, 2 * self.dim])
        query = F.linear(queries, weight_q, bias_q)
        key, value = F.linear(memory, weight_kv, bias_kv).chunk(2, dim=-1)
        return tuple(
            x.unflatten(-1, (self.num_heads, -1)).transpose(1, 2)
            for x in (query, key, value))

    def forward(self,
                queries: torch.Tensor,
                memory: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Attend from ``queries (B, L, D)`` to ``memory (B, M, D)``
        (default: the queries, i.e. self-attention); returns ``(B, L, D)``.
        """
        memory = queries if memory is None else memory
        query, key, value = self._project(queries, memory)
        weights = (query @ key.transpose(-2, -1) *
                   self.logit_scale).softmax(dim=-1)
        attended = (weights @ value).transpose(1, 2).flatten(2)
        return self.out_proj(attended)


class PreNormTransformerBlock(nn.Module):
    """``x + attn(norm1(x), memory)``, then ``x + FFN(norm2(x))``.

    Without memory the attention is self-attention; with memory it is
    cross-attention only (the memory is not normalised here and the
    positions never attend to each other). FFN: ``Linear(D, hidden)`` ->
    ReLU -> ``Linear(hidden, D)``; dropout 0, no final norm.

    Parameters (official names): ``self_attn.{qkv,out_proj}``,
    ``linear1``, ``linear2``, ``norm1``, ``norm2``.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 hidden_dim: int,
                 official_logit_scale: bool = True) -> None:
        super().__init__()
        self.self_attn = QKVAttention(dim, num_heads, official_logit_scale)
        self.linear1 = nn.Linear(dim, hidden_dim)
        self.linear2 = nn.Linear(hidden_dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)

    def forward(self,
                x: torch.Tensor,
                memory: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(B, L, D)`` (and ``(B, M, D)`` memory) -> ``(B, L, D)``."""
        normed = self.norm1(x)
        x = x + self.self_attn(normed, normed if memory is None else memory)
        return x + self.linear2(F.relu(self.linear1(self.norm2(x))))


@MODELS.register_module()
class SlotTransformer(nn.Module):
    """A stack of :class:`PreNormTransformerBlock` (the official
    ``networks.TransformerEncoder``).

    VideoSAUR's predictor is one self-attention block on the slots; the
    SlotMixer allocator stacks cross-attention blocks from patch positions
    to the slots (``forward(x, memory)``).

    Args:
        dim (int): Channels ``D``.
        num_blocks (int): Blocks.
        num_heads (int): Attention heads.
        hidden_dim (int, optional): FFN width; default ``4 * D``.
        official_logit_scale (bool): Attention logits times
            ``sqrt(d_head)`` as in the released models (default) instead of
            divided by it.
    """

    def __init__(self,
                 dim: int,
                 num_blocks: int = 1,
                 num_heads: int = 4,
                 hidden_dim: Optional[int] = None,
                 official_logit_scale: bool = True) -> None:
        super().__init__()
        hidden_dim = 4 * dim if hidden_dim is None else hidden_dim
        self.blocks = nn.ModuleList([
            PreNormTransformerBlock(dim, num_heads, hidden_dim,
                                    official_logit_scale)
            for _ in range(num_blocks)
        ])

    def forward(self,
                x: torch.Tensor,
                memory: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``(B, L, D)`` -> ``(B, L, D)``; ``memory (B, M, D)`` makes every
        block a cross-attention to it."""
        for block in self.blocks:
            x = block(x, memory)
        return x
