"""SMTC slot diversity: different slots cover different positions."""
from typing import Dict, Mapping, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmsmtc.registry import MODELS
from .utils import autocast_disabled, get_checked_tensor

#: Added to the probabilities before the L2 normalisation, as officially.
PROBABILITY_OFFSET = 1e-8


@MODELS.register_module()
class SlotDiversityLoss(nn.Module):
    """Slot diversity loss of SMTC (the official ``differ_loss``).

    Each slot's soft assignment map over the ``N`` positions (softmax over
    the ``S`` slots, plus ``1e-8``) is L2-normalised; the loss is the mean
    cosine similarity between the maps of two different slots::

        m = normalize(softmax_S(logits) + 1e-8, over N)       # (B, T, S, N)
        loss = sum_{b, t, s != r} <m[b, t, s], m[b, t, r]> / (B T S (S-1))

    Only the student's output is used. The loss runs in float32 with
    autocast disabled.

    Args:
        loss_weight: Factor of the loss (official ``ent_scale``: 1; the
            official ``entro_cons`` flag switches the loss on).
        loss_name: Key of the loss in the loss dict (default
            ``'loss_diversity'``).

    Inputs:
        - ``student_out['semantic_logits']``: ``(B, T, S, N)``, ``S >= 2``.

    Returns:
        Tensor: scalar float32 loss.
    """

    def __init__(self, loss_weight: float = 1.0,
                 loss_name: str = 'loss_diversity'):
        super().__init__()
        self.loss_weight = loss_weight
        self.loss_name = loss_name

    def forward(self,
                student_out: Mapping[str, Tensor],
                teacher_out: Optional[Mapping[str, Tensor]] = None) -> Tensor:
        """Compute the loss; ``teacher_out`` is accepted and unused."""
        sizes: Dict[str, int] = {}
        logits = get_checked_tensor(student_out, 'student_out',
                                    'semantic_logits', 'B T S N', sizes)
        num_slots = sizes['S']
        if num_slots < 2:
            raise ValueError('SlotDiversityLoss needs S >= 2 slots, got '
                             "student_out['semantic_logits'] of shape "
                             f'{tuple(logits.shape)}')
        with autocast_disabled(logits.device):
            maps = F.normalize(
                logits.float().softmax(dim=2) + PROBABILITY_OFFSET, dim=-1)
            gram = torch.einsum('btsn,btrn->btsr', maps, maps)
            diagonal = torch.eye(
                num_slots, dtype=torch.bool, device=logits.device)
            off_diagonal = gram.masked_fill(diagonal, 0).sum()
            num_pairs = sizes['B'] * sizes['T'] * num_slots * (num_slots - 1)
            loss = off_diagonal / num_pairs
        return self.loss_weight * loss
