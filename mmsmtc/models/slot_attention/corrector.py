"""Slot attention as VideoSAUR's corrector (``groupers.SlotAttention``)."""
from typing import Optional, Tuple

import torch
from torch import nn

from mmsmtc.registry import MODELS
from ..layers import LayerStack


@MODELS.register_module()
class SlotAttentionCorrector(nn.Module):
    """Slot attention (Locatello et al.) in the official VideoSAUR form.

    Per call, ``f = norm_features(features)``, ``k = to_k f``,
    ``v = to_v f``; per iteration::

        s_n  = norm_slots(s)
        A    = softmax over slots of (to_q s_n) k^T / sqrt(D)  (B, K, N)
        W    = (A + eps) renormalised over the N inputs
        s    = GRUCell(W v, hidden=s_n)       # official: the LN'd slots
        s    = s + mlp(s)                     # only with use_mlp (images)

    The GRU's hidden state is the layer-normed slots, not the raw ones
    (unlike Locatello et al.): the released models were trained so
    (``gru_on_normed_slots=True``, the default); False feeds the raw slots
    as in Locatello et al.

    Args:
        in_channels (int): Feature channels (``D`` after the encoder's
            output transform).
        slot_dim (int): ``D``.
        num_iters (int): Iterations per call unless told otherwise.
        eps (float): Added to the attention before renormalising.
        use_mlp (bool): Residual MLP after the GRU (DINOSAUR, not VideoSAUR):
            ``LayerNorm -> Linear(D, hidden) -> ReLU -> Linear(hidden, D)``.
        mlp_hidden_dim (int, optional): Default ``4 * D``.
        gru_on_normed_slots (bool): The GRU's hidden state is the
            layer-normed slots (official quirk) rather than the slots.

    Parameters (official names): ``to_q``, ``to_k``, ``to_v`` (no bias),
    ``gru``, ``norm_features``, ``norm_slots``, ``mlp.layers.{0,1,3}``.
    """

    def __init__(self,
                 in_channels: int,
                 slot_dim: int,
                 num_iters: int = 3,
                 eps: float = 1e-8,
                 use_mlp: bool = False,
                 mlp_hidden_dim: Optional[int] = None,
                 gru_on_normed_slots: bool = True) -> None:
        super().__init__()
        if num_iters < 1:
            raise ValueError(f'num_iters must be >= 1, got {num_iters}')
        self.num_iters = num_iters
        self.eps = eps
        self.gru_on_normed_slots = gru_on_normed_slots
        self.scale = slot_dim**-0.5
        self.to_q = nn.Linear(slot_dim, slot_dim, bias=False)
        self.to_k = nn.Linear(in_channels, slot_dim, bias=False)
        self.to_v = nn.Linear(in_channels, slot_dim, bias=False)
        self.gru = nn.GRUCell(slot_dim, slot_dim)
        self.norm_features = nn.LayerNorm(in_channels)
        self.norm_slots = nn.LayerNorm(slot_dim)
        self.mlp = None
        if use_mlp:
            hidden = 4 * slot_dim if mlp_hidden_dim is None else mlp_hidden_dim
            self.mlp = LayerStack([
                nn.LayerNorm(slot_dim),
                nn.Linear(slot_dim, hidden),
                nn.ReLU(),
                nn.Linear(hidden, slot_dim)
            ])

    def forward(self,
                slots: torch.Tensor,
                features: torch.Tensor,
                num_iters: Optional[int] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Refine ``slots (B, K, D)`` on ``features (B, N, C)``.

        Returns:
            tuple: the slots ``(B, K, D)`` and the last iteration's
            attention ``(B, K, N)`` (softmax over slots, before ``eps``).
        """
        features = self.norm_features(features)
        keys = self.to_k(features)
        values = self.to_v(features)
        num_iters = self.num_iters if num_iters is None else num_iters
        attention = None
        for _ in range(num_iters):
            slots, attention = self._iterate(slots, keys, values)
        return slots, attention

    def _iterate(self, slots: torch.Tensor, keys: torch.Tensor,
                 values: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        normed = self.norm_slots(slots)
        logits = self.to_q(normed) @ keys.transpose(1, 2) * self.scale
        attention = logits.softmax(dim=1)
        weights = attention + self.eps
        weights = weights / weights.sum(dim=-1, keepdim=True)
        updates = weights @ values
        hidden = normed if self.gru_on_normed_slots else slots
        slots = self.gru(updates.flatten(0, 1),
                         hidden.flatten(0, 1)).unflatten(0, hidden.shape[:2])
        if self.mlp is not None:
            slots = slots + self.mlp(slots)
        return slots, attention
