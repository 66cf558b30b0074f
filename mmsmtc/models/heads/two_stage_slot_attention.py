"""Semantic-aware masked slot attention (SMTC, ICCV'23), two stages."""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmsmtc.registry import MODELS
from ..utils import randn_like_device

AREA_SOURCES = ('logits', 'softmax')


def _gradient_through_last_round(slots: torch.Tensor,
                                 init: torch.Tensor) -> torch.Tensor:
    """Keep the value of ``slots`` but route its gradient to ``init``.

    The value equals ``slots``; the backward pass skips the rounds that
    produced ``slots`` and sends their gradient straight to ``init``. This is
    the official expression, kept literally so that it rounds identically.
    """
    return slots.detach() - init.detach() + init


@MODELS.register_module()
class TwoStageSlotAttention(BaseModule):
    """Two-stage slot attention: semantic slots, then instance slots.

    Per frame, with ``L`` token positions of ``C`` channels, ``S`` semantic
    slots and ``P`` instances per semantic slot:

    Stage 1 (semantic decomposition): ``S`` slots start from the learnt
    means ``slots_mu``; each of ``iters`` rounds computes
    ``logits = q(norm_slots(slots)) . k(norm_input(x)) / sqrt(C)``
    ``(S, L)``, a softmax over the slots plus ``eps``, renormalises over the
    tokens (weighted mean), and updates ``slots = slots + attn @ v`` followed
    by ``slots = slots + mlp(norm_pre_ff(slots))`` (the official code has no
    GRU). Only the last round back-propagates: after round ``iters - 2`` the
    slots' gradient is routed straight to their initialisation.

    Stage 2 (instance discrimination): ``P`` slots per semantic slot start at
    ``slots_mu + exp(slots_log_std) * noise`` with ``noise ~ N(0, 1)`` (or the
    given ``instance_noise``). Each round attends with a softmax over the
    ``P`` instances of a semantic slot, restricted to that semantic slot's
    area (``area > area_threshold``, from the last stage-1 round's logits)
    and renormalised over the tokens with ``+ eps`` in the denominator. The
    projections, norms and MLP are shared with stage 1.

    Official quirks kept by default:

    - ``area_from='logits'``: the official code computes the softmax of the
      semantic logits but then thresholds the raw, scaled logits at 0.3.
      ``area_from='softmax'`` thresholds the softmax over slots instead (what
      the code evidently meant).
    - ``learnable_instance_std=False``: the official ``torch.normal(mu,
      sigma)`` has zero gradient, so neither ``slots_log_std`` nor the means
      learn anything through stage 2 although the paper calls the deviation
      learnable. ``True`` uses the reparameterised sample, differentiable in
      both.
    - The returned semantic (instance) logits are those of the last round,
      computed from the slots *before* their last update; the returned slots
      are after it.

    ``instance_embeddings`` are what the official model returns as
    ``objects`` (``warp_instance``): the instance slots through a
    ``C -> 2C -> D`` MLP (``instance_projector``, official ``mlp_slot``),
    L2-normalised. The instance losses compare these across frames.

    Args:
        in_channels (int): ``C``, token channels (= slot channels).
        num_slots (int): ``S``, semantic slots. Defaults to 16.
        num_instances (int): ``P``, instance slots per semantic slot.
            Defaults to 4.
        iters (int): Rounds of attention in each stage. Defaults to 3.
        mlp_channels (int, optional): Hidden channels of the slot MLP;
            ``None`` uses ``in_channels`` (official). Defaults to None.
        embed_channels (int, optional): ``D``, channels of the instance
            embeddings; ``None`` uses ``in_channels`` (official).
        eps (float): Added to the attention before normalisation.
            Defaults to 1e-8.
        area_threshold (float): Threshold of the semantic area. Defaults to
            0.3.
        area_from (str): ``'logits'`` (official) or ``'softmax'``.
        learnable_instance_std (bool): Reparameterised, differentiable
            instance sampling. Defaults to False (official).
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 num_slots: int = 16,
                 num_instances: int = 4,
                 iters: int = 3,
                 mlp_channels: Optional[int] = None,
                 embed_channels: Optional[int] = None,
                 eps: float = 1e-8,
                 area_threshold: float = 0.3,
                 area_from: str = 'logits',
                 learnable_instance_std: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if area_from not in AREA_SOURCES:
            raise ValueError(f'area_from must be one of {AREA_SOURCES}, got '
                             f'{area_from!r}')
        sizes = dict(in_channels=in_channels,
                     num_slots=num_slots,
                     num_instances=num_instances,
                     iters=iters)
        for name, value in sizes.items():
            if value < 1:
                raise ValueError(f'{name} must be >= 1, got {value}')
        self.in_channels = in_channels
        self.num_slots = num_slots
        self.num_instances = num_instances
        self.iters = iters
        self.eps = eps
        self.scale = in_channels**-0.5
        self.area_threshold = area_threshold
        self.area_from = area_from
        self.learnable_instance_std = learnable_instance_std
        mlp_channels = mlp_channels or in_channels
        embed_channels = embed_channels or in_channels
        self.embed_channels = embed_channels

        self.norm_input = nn.LayerNorm(in_channels)
        self.norm_slots = nn.LayerNorm(in_channels)
        self.norm_pre_ff = nn.LayerNorm(in_channels)
        self.slots_mu = nn.Parameter(torch.randn(1, num_slots, 1, in_channels))
        self.slots_log_std = nn.Parameter(
            torch.zeros(1, num_slots, 1, in_channels))
        nn.init.xavier_uniform_(self.slots_log_std)
        self.project_q = nn.Linear(in_channels, in_channels)
        self.project_k = nn.Linear(in_channels, in_channels)
        self.project_v = nn.Linear(in_channels, in_channels)
        self.mlp = nn.Sequential(nn.Linear(in_channels,
                                           mlp_channels), nn.ReLU(),
                                 nn.Linear(mlp_channels, in_channels))
        self.instance_projector = nn.Sequential(
            nn.Linear(in_channels, 2 * in_channels), nn.ReLU(),
            nn.Linear(2 * in_channels, embed_channels))

    def forward(
        self,
        tokens: torch.Tensor,
        instance_noise: Optional[torch.Tensor] = None
    ) -> Dict[str, torch.Tensor]:
        """Run both stages on ``N`` independent frames.

        Args:
            tokens (Tensor): ``(N, L, C)`` token features.
            instance_noise (Tensor, optional): ``(N, S, P, C)`` standard
                normal noise of the instance initialisation; drawn with
                ``torch.randn`` when None.

        Returns:
            dict[str, Tensor]: ``semantic_logits (N, S, L)``,
            ``slots (N, S, C)``, ``instance_logits (N, S, P, L)``,
            ``instance_slots (N, S, P, C)`` and
            ``instance_embeddings (N, S, P, D)``.
        """
        if tokens.dim() != 3 or tokens.shape[-1] != self.in_channels:
            raise ValueError(
                'TwoStageSlotAttention expects tokens of shape (N, L, '
                f'{self.in_channels}), got {tuple(tokens.shape)}')
        inputs = self.norm_input(tokens)
        keys = self.project_k(inputs)
        values = self.project_v(inputs)
        num_frames = tokens.shape[0]

        semantic_init = self.slots_mu[:, :, 0].expand(num_frames, -1, -1)
        slots, semantic_logits = self._semantic_stage(semantic_init, keys,
                                                      values)
        instance_init = self.sample_instance_init(num_frames, instance_noise)
        area = self.semantic_area(semantic_logits)
        instance_slots, instance_logits = self._instance_stage(
            instance_init, keys, values, area)
        embeddings = F.normalize(self.instance_projector(instance_slots),
                                 dim=-1)
        return dict(semantic_logits=semantic_logits,
                    slots=slots,
                    instance_logits=instance_logits,
                    instance_slots=instance_slots,
                    instance_embeddings=embeddings)

    def sample_instance_init(
            self,
            num_frames: int,
            instance_noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Instance initialisation ``mu + exp(log_std) * noise``.

        Args:
            num_frames (int): ``N``.
            instance_noise (Tensor, optional): ``(N, S, P, C)`` noise.

        Returns:
            Tensor: ``(N, S, P, C)``, detached unless
            ``learnable_instance_std``.
        """
        shape = (num_frames, self.num_slots, self.num_instances,
                 self.in_channels)
        if instance_noise is None:
            instance_noise = torch.randn(shape,
                                         device=self.slots_mu.device,
                                         dtype=self.slots_mu.dtype)
        elif tuple(instance_noise.shape) != shape:
            raise ValueError(f'instance_noise must have shape {shape} (N, S, '
                             f'P, C), got {tuple(instance_noise.shape)}')
        init = self.slots_mu + self.slots_log_std.exp() * instance_noise
        return init if self.learnable_instance_std else init.detach()

    def draw_instance_noise(self, num_frames: int,
                            generator: torch.Generator) -> torch.Tensor:
        """``(N, S, P, C)`` standard normal noise from ``generator`` (e.g. a
        per-video CPU generator), on the head's device and dtype."""
        shape = (num_frames, self.num_slots, self.num_instances,
                 self.in_channels)
        return randn_like_device(shape, generator, self.slots_mu)

    def semantic_area(self, semantic_logits: torch.Tensor) -> torch.Tensor:
        """Binary area of each semantic slot, ``(N, S, L)`` float 0/1."""
        source = semantic_logits
        if self.area_from == 'softmax':
            source = semantic_logits.softmax(dim=1)
        return (source > self.area_threshold).to(semantic_logits.dtype)

    def _update(self, slots: torch.Tensor,
                updates: torch.Tensor) -> torch.Tensor:
        """Residual update followed by the residual MLP (no GRU)."""
        slots = slots + updates
        return slots + self.mlp(self.norm_pre_ff(slots))

    def _semantic_stage(self, init: torch.Tensor, keys: torch.Tensor,
                        values: torch.Tensor):
        """Stage 1 on ``init (N, S, C)``; returns slots and ``(N, S, L)``."""
        slots = self._rounds_without_gradient(self._semantic_round, init,
                                              keys, values)
        return self._semantic_round(slots, keys, values)

    def _semantic_round(self, slots: torch.Tensor, keys: torch.Tensor,
                        values: torch.Tensor):
        """One stage-1 round: ``(N, S, C)`` slots -> slots, ``(N, S, L)``."""
        query = self.project_q(self.norm_slots(slots))
        logits = torch.einsum('nsc,nlc->nsl', query, keys) * self.scale
        attn = logits.softmax(dim=1) + self.eps
        attn = attn / attn.sum(dim=-1, keepdim=True)
        slots = self._update(slots, torch.einsum('nsl,nlc->nsc', attn,
                                                 values))
        return slots, logits

    def _instance_stage(self, init: torch.Tensor, keys: torch.Tensor,
                        values: torch.Tensor, area: torch.Tensor):
        """Stage 2 on ``init (N, S, P, C)`` inside ``area (N, S, L)``."""
        slots = self._rounds_without_gradient(self._instance_round, init,
                                              keys, values, area)
        return self._instance_round(slots, keys, values, area)

    def _instance_round(self, slots: torch.Tensor, keys: torch.Tensor,
                        values: torch.Tensor, area: torch.Tensor):
        """One stage-2 round: ``(N, S, P, C)`` -> slots, ``(N, S, P, L)``."""
        query = self.project_q(self.norm_slots(slots))
        logits = torch.einsum('nspc,nlc->nspl', query, keys) * self.scale
        attn = logits.softmax(dim=2) + self.eps
        attn = attn * area[:, :, None]
        attn = attn / (attn.sum(dim=-1, keepdim=True) + self.eps)
        slots = self._update(slots, torch.einsum('nspl,nlc->nspc', attn,
                                                 values))
        return slots, logits

    def _rounds_without_gradient(self, run_round, init: torch.Tensor,
                                 *inputs: torch.Tensor) -> torch.Tensor:
        """The first ``iters - 1`` rounds, started from ``init``.

        Their gradient is never used (it is routed straight to ``init``,
        :func:`_gradient_through_last_round`), so they run without autograd:
        the same values, no graph to record. Returns the slots entering the
        last round (``init`` itself when ``iters == 1``).
        """
        if self.iters == 1:
            return init
        slots = init
        with torch.no_grad():
            for _ in range(self.iters - 1):
                slots, _ = run_round(slots, *inputs)
        return _gradient_through_last_round(slots, init)
