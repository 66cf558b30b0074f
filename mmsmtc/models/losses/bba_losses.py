"""Betrayed by Attention's training losses (official
``src/train_RGB_cluster.py``).

Both losses read the training outputs of
:class:`~mmsmtc.models.algorithms.BetrayedByAttention` (``B`` clips of
``T`` frames, ``N`` patches per frame, ``n`` anchor patches):

- ``attention`` ``(B, T * N, T * N)``: the block's head-averaged attention
  after attention dropout, cls rows and columns removed (rows then no longer
  sum to 1);
- ``tokens`` ``(B, T, N, C)``: the block's output patch tokens;
- ``anchors`` ``(n,)``: patch indices, the same in every frame.

Rankings (``argsort``) carry no gradient, as officially.
"""
from typing import Dict

import torch
import torch.nn.functional as F
from torch import nn

from mmsmtc.registry import MODELS

#: Added inside the logs of the motion loss, as officially.
LOG_OFFSET = 1e-10


def anchor_rankings(attention: torch.Tensor, num_frames: int,
                    anchors: torch.Tensor) -> torch.Tensor:
    """Patches of every frame by descending attention from each anchor.

    Returns:
        Tensor: ``(B, T, n, T, N)`` int64 indices into each frame's ``N``
        patches.
    """
    batch, length, _ = attention.shape
    patches = length // num_frames
    rows = attention.view(batch, num_frames, patches, num_frames,
                          patches)[:, :, anchors]
    return torch.argsort(rows.detach(), dim=-1, descending=True)


def _check(outputs: Dict[str, torch.Tensor], name: str) -> None:
    attention, tokens = outputs['attention'], outputs['tokens']
    batch, frames, patches, _ = tokens.shape
    expected = (batch, frames * patches, frames * patches)
    if tuple(attention.shape) != expected:
        raise ValueError(f'{name}: attention must be (B, T*N, T*N) = '
                         f'{expected} for tokens {tuple(tokens.shape)}, got '
                         f'{tuple(attention.shape)}')


@MODELS.register_module()
class BbASemanticConsistencyLoss(nn.Module):
    """Semantic consistency (official ``slot_loss``).

    For each anchor ``(t, i)`` and frame ``s``, the ``num_positives`` most
    and ``num_negatives`` least attended patches of frame ``s`` (the
    anchor's own frame included)::

        L = mean [pos_margin - cos(z_ti, z_sj)]_+ over positives
          + mean [cos(z_ti, z_sk) - neg_margin]_+ over negatives

    Args:
        num_positives (int): Official 30.
        num_negatives (int): Official 200 (all patches when ``N`` is
            smaller, overlapping the positives, as officially).
        pos_margin (float): Official 0.9.
        neg_margin (float): Official 0.1.
        loss_weight (float): Official 1.
        loss_name (str): Defaults to ``'loss_semantic'``.
    """

    def __init__(self,
                 num_positives: int = 30,
                 num_negatives: int = 200,
                 pos_margin: float = 0.9,
                 neg_margin: float = 0.1,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_semantic') -> None:
        super().__init__()
        self.num_positives = num_positives
        self.num_negatives = num_negatives
        self.pos_margin = pos_margin
        self.neg_margin = neg_margin
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, outputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        _check(outputs, type(self).__name__)
        tokens, anchors = outputs['tokens'], outputs['anchors']
        batch, frames, patches, _ = tokens.shape
        order = anchor_rankings(outputs['attention'], frames, anchors)
        unit = F.normalize(tokens, dim=-1)
        # (B, T, n, T, N): cosine of each anchor with every patch
        cosine = torch.einsum('btnc,bsmc->btnsm', unit[:, :, anchors], unit)
        positives = cosine.gather(-1, order[..., :self.num_positives])
        negatives = cosine.gather(-1, order[..., -self.num_negatives:])
        loss = F.relu(self.pos_margin - positives).mean() + F.relu(
            negatives - self.neg_margin).mean()
        return self.loss_weight * loss


@MODELS.register_module()
class BbAMotionConsistencyLoss(nn.Module):
    """Dynamic motion consistency with entropy weighting (official
    ``motion_loss``).

    ``r_ti`` is the anchor's full attention row over the ``T * N`` patches,
    ``q = stopgrad(r / |r|_1)``; positives are the ``num_positives`` and
    negatives the ``num_negatives`` last patches of the anchor's own frame
    ranking (same frame only). With ``CE(q, x) = -sum q log(x / |x|_1 +
    1e-10)`` and weights ``w_ti = softmax_i(sum q log(q + 1e-10))`` per
    frame (peaked anchors weigh more)::

        L = mean_{b, t, neg, pos} sum_i w_ti [margin + CE(q_ti, r_pos)
                                                - CE(q_ti, r_neg)]_+

    a triplet on KL divergences. Only ``norm1`` and the Q, K weights of the
    block receive its gradient.

    Args:
        num_positives (int): Official 10.
        num_negatives (int): Official 50.
        margin (float): Official 1.
        loss_weight (float): Official 1.
        loss_name (str): Defaults to ``'loss_motion'``.
    """

    def __init__(self,
                 num_positives: int = 10,
                 num_negatives: int = 50,
                 margin: float = 1.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_motion') -> None:
        super().__init__()
        self.num_positives = num_positives
        self.num_negatives = num_negatives
        self.margin = margin
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self, outputs: Dict[str, torch.Tensor]) -> torch.Tensor:
        _check(outputs, type(self).__name__)
        attention, anchors = outputs['attention'], outputs['anchors']
        batch, frames, patches, _ = outputs['tokens'].shape
        order = anchor_rankings(attention, frames, anchors)
        # each anchor's ranking of its own frame: (B, T, n, N)
        own = order.diagonal(dim1=1, dim2=3).permute(0, 3, 1, 2)
        rows = attention.view(batch, frames, patches, frames * patches)
        query = F.normalize(rows[:, :, anchors].detach(), p=1, dim=-1)
        weights = torch.einsum('btnc,btnc->btn', query,
                               torch.log(query + LOG_OFFSET)).softmax(dim=-1)

        def cross_terms(index: torch.Tensor) -> torch.Tensor:
            """``sum_c q log(r_j / |r_j|_1 + 1e-10)``: ``(B, T, n, k)``."""
            count = index.shape[-1]
            flat = index.flatten(2)[..., None].expand(-1, -1, -1,
                                                      rows.shape[-1])
            picked = rows.gather(2, flat).unflatten(2, (-1, count))
            logs = torch.log(F.normalize(picked, p=1, dim=-1) + LOG_OFFSET)
            return torch.einsum('btnkc,btnc->btnk', logs, query)

        positive = cross_terms(own[..., :self.num_positives])
        negative = cross_terms(own[..., -self.num_negatives:])
        triplets = F.relu(negative[..., :, None] - positive[..., None, :] +
                          self.margin)
        loss = torch.einsum('btn,btnpq->btpq', weights, triplets).mean()
        return self.loss_weight * loss
