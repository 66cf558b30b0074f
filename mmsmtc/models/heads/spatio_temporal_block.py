"""Betrayed by Attention's spatio-temporal transformer block."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmsmtc.registry import MODELS


class _Attention(nn.Module):
    """Multi-head self-attention returning its (dropped-out) attention map;
    parameter names as the official ``attention.py`` (``qkv``, ``proj``)."""

    def __init__(self, dim: int, num_heads: int, attn_drop: float,
                 proj_drop: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def heads(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, L, C)`` -> ``(3, B, heads, L, head_dim)`` Q, K, V."""
        batch, length, _ = tokens.shape
        return self.qkv(tokens).reshape(batch, length, 3, self.num_heads,
                                        self.head_dim).permute(2, 0, 3, 1, 4)

    def forward(self, tokens: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        query, key, value = self.heads(tokens).unbind(0)
        attention = ((query @ key.transpose(-2, -1)) * self.scale).softmax(-1)
        attention = self.attn_drop(attention)
        mixed = (attention @ value).transpose(1, 2).flatten(2)
        return self.proj_drop(self.proj(mixed)), attention


class _Mlp(nn.Module):
    """``fc1 -> GELU -> dropout -> fc2 -> dropout`` (official names)."""

    def __init__(self, dim: int, hidden: int, drop: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop2 = nn.Dropout(drop)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(tokens)))))


@MODELS.register_module()
class SpatioTemporalBlock(nn.Module):
    """One pre-norm transformer block under joint attention over all tokens
    of a clip (official ``src/model/attention.py: Block``, ``num_t=1``).

    Differences from a DINO block, all official: qkv without bias,
    ``nn.LayerNorm`` with eps 1e-5, dropout (after ``proj``, after the MLP
    activation and after ``fc2``) instead of drop-path, attention dropout on
    the softmax map, no positional or temporal embedding. At ``C = 384``
    with 8 heads it has 1,773,312 parameters.

    Args:
        embed_dim (int): ``C``. Defaults to 384.
        num_heads (int): Defaults to 8 (head dim 48 at ``C = 384``).
        mlp_ratio (float): MLP hidden size / ``C``. Defaults to 4.
        drop (float): Dropout after ``proj``, the activation and ``fc2``
            (official ``path_drop``, 0.1).
        attn_drop (float): Dropout on the attention map (official
            ``attn_drop_t``, 0.4).
        norm_eps (float): LayerNorm eps (torch default 1e-5, as official).
    """

    def __init__(self,
                 embed_dim: int = 384,
                 num_heads: int = 8,
                 mlp_ratio: float = 4.0,
                 drop: float = 0.1,
                 attn_drop: float = 0.4,
                 norm_eps: float = 1e-5) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f'embed_dim {embed_dim} is not divisible by '
                             f'num_heads {num_heads}')
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.norm1 = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.attn = _Attention(embed_dim, num_heads, attn_drop, drop)
        self.norm2 = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.mlp = _Mlp(embed_dim, int(embed_dim * mlp_ratio), drop)

    @property
    def scale(self) -> float:
        """``head_dim ** -0.5``."""
        return self.attn.scale

    def forward(self, tokens: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run the block on ``(B, L, C)`` tokens.

        Returns:
            tuple: output tokens ``(B, L, C)`` and the per-head attention
            ``(B, heads, L, L)`` after attention dropout (the official
            training uses it so).
        """
        attended, attention = self.attn(self.norm1(tokens))
        tokens = tokens + attended
        return tokens + self.mlp(self.norm2(tokens)), attention

    def queries_and_keys(self, tokens: torch.Tensor
                         ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Inference: only ``norm1`` and the Q, K rows of ``qkv``.

        Args:
            tokens: ``(B, L, C)``.

        Returns:
            tuple: queries and keys, each ``(B, heads, L, head_dim)``.
        """
        dim = self.embed_dim
        weight = self.attn.qkv.weight[:2 * dim]
        batch, length, _ = tokens.shape
        heads = F.linear(self.norm1(tokens), weight).reshape(
            batch, length, 2, self.num_heads,
            self.attn.head_dim).permute(2, 0, 3, 1, 4)
        return heads[0], heads[1]


#: Elements of one head's ``(rows, m)`` logits computed at once by
#: :func:`head_averaged_attention` (4 MiB in float32: the block stays in the
#: processor's cache through the product, the softmax and the head sum, and
#: at ``m = 24000`` key patches it still has 43 rows to share each read of a
#: head's keys; measured on one core, 2**18 was 1.8x slower there and 2**20
#: as fast as the best at ``m = 1800`` and 6000).
ATTENTION_CHUNK_ELEMENTS = 2**20


def head_averaged_attention(
        queries: torch.Tensor,
        keys: torch.Tensor,
        scale: float,
        chunk_elements: int = ATTENTION_CHUNK_ELEMENTS) -> torch.Tensor:
    """``mean_h softmax(q_h k_h^T * scale)``, a block of rows at a time.

    For each block of rows, one head at a time: the logits (the queries
    are scaled first), the softmax in place, and its sum into the output;
    the output is divided by the number of heads at the end. Only the
    output and one ``(rows, m)`` block are held; the official code
    materialises all heads' logits of three frames at once.

    Args:
        queries: ``(heads, n, d)``.
        keys: ``(heads, m, d)``.
        scale: Logit scale.
        chunk_elements: Most elements of one block's ``(rows, m)`` logits
            (one head); at least one row.

    Returns:
        Tensor: ``(n, m)`` rows summing to 1.
    """
    heads, rows, _ = queries.shape
    width = keys.shape[1]
    step = max(1, min(rows, chunk_elements // max(1, width)))
    output = queries.new_empty((rows, width))
    scaled_queries = queries * scale
    keys_t = keys.transpose(1, 2).contiguous()
    logits = queries.new_empty((step, width))
    for start in range(0, rows, step):
        stop = min(rows, start + step)
        block, summed = logits[:stop - start], output[start:stop]
        for head in range(heads):
            torch.mm(scaled_queries[head, start:stop], keys_t[head],
                     out=block)
            block.sub_(block.amax(dim=1, keepdim=True)).exp_()
            total = block.sum(dim=1, keepdim=True)
            if head == 0:
                torch.div(block, total, out=summed)
            else:
                summed.addcdiv_(block, total)
    return output.div_(heads)
