"""SMTC semantic consistency: slot assignments agree along dense transport."""
from typing import Dict, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmsmtc.registry import MODELS
from .sinkhorn import log_sinkhorn
from .utils import autocast_disabled, get_checked_tensor

#: Added to the student's probabilities inside the log, as officially.
LOG_OFFSET = 1e-8


def ordered_frame_pairs(num_frames: int, device: torch.device) -> Tensor:
    """All ordered pairs ``(i, j)``, ``i != j``, ``i`` major.

    Built by arithmetic rather than by boolean masking, which would read
    the mask back to the host (a device synchronisation).

    Returns:
        Tensor: ``(T * (T - 1), 2)`` int64 frame indices.
    """
    index = torch.arange(num_frames * (num_frames - 1), device=device)
    source = index.div(num_frames - 1, rounding_mode='floor')
    offset = index.remainder(num_frames - 1)
    target = offset + (offset >= source).long()
    return torch.stack([source, target], dim=1)


@MODELS.register_module()
class SemanticConsistencyLoss(nn.Module):
    """Semantic consistency loss of SMTC (official ``dense_transport_loss``).

    For every ordered frame pair ``(i, j)``, ``i != j``, the teacher's
    backbone keys define a transport problem between the ``N = h * w``
    positions of frame ``i`` (rows ``u``) and frame ``j`` (columns ``v``):

    - cost ``1 - cos(key_i[u], key_j[v])``,
    - masses ``|k|_1`` of the L2-normalised keys ``k``, each frame's masses
      normalised to sum to one,
    - plan ``pi`` = ``num_iters`` Sinkhorn iterations with ``eps``,
      computed under ``no_grad`` in the log domain
      (:func:`~mmsmtc.models.losses.sinkhorn.log_sinkhorn`).

    The plan weights a cross-entropy between the teacher's slot assignment
    of frame ``j`` and the student's of frame ``i`` (softmax over the ``S``
    slots)::

        loss = - 1 / (B * T * (T - 1)) * sum_{b, (i, j), u, v, s}
                 pi[u, v] * p_teacher_j[s, v] * log(p_student_i[s, u] + 1e-8)

    which is the official value (mean over batch and pairs, sum over
    positions) up to float32 rounding (measured: below 1e-6 relative).
    The keys enter only through the plan and receive no gradient; the
    logits are used as given, as officially (the teacher's come from a
    model run without gradient). The loss runs in float32 with autocast
    disabled, so it is finite under fp16/bf16 training where the official
    ``exp(-M / eps)`` and ``log(p + 1e-8)`` underflow in half precision.

    Args:
        loss_weight: Factor of the loss (official ``cons_scale``: 1; the
            official ``bi_cons`` flag switches the loss on).
        loss_name: Key of the loss in the loss dict (default
            ``'loss_semantic'``).
        eps: Entropic regularisation of the Sinkhorn plan (official: 0.05).
        num_iters: Sinkhorn iterations (official: 3).

    Inputs:
        - ``student_out['semantic_logits']``: ``(B, T, S, N)``.
        - ``teacher_out['semantic_logits']``: ``(B, T, S, N)``.
        - ``teacher_out['keys']``: ``(B, T, C, h, w)`` with ``h * w = N``.

    Returns:
        Tensor: scalar float32 loss.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_semantic',
                 eps: float = 0.05,
                 num_iters: int = 3):
        super().__init__()
        if eps <= 0:
            raise ValueError(f'eps must be positive, got {eps}')
        if num_iters < 1:
            raise ValueError(f'num_iters must be at least 1, got {num_iters}')
        self.loss_weight = loss_weight
        self.loss_name = loss_name
        self.eps = eps
        self.num_iters = num_iters

    def forward(self, student_out: Mapping[str, Tensor],
                teacher_out: Mapping[str, Tensor]) -> Tensor:
        """Compute the loss; see the class docstring for the inputs."""
        sizes: Dict[str, int] = {}
        keys = get_checked_tensor(teacher_out, 'teacher_out', 'keys',
                                  'B T C h w', sizes)
        sizes['N'] = sizes['h'] * sizes['w']
        student_logits = get_checked_tensor(student_out, 'student_out',
                                            'semantic_logits', 'B T S N',
                                            sizes)
        teacher_logits = get_checked_tensor(teacher_out, 'teacher_out',
                                            'semantic_logits', 'B T S N',
                                            sizes)
        if sizes['T'] < 2:
            raise ValueError('SemanticConsistencyLoss needs T >= 2 frames, '
                             "got teacher_out['keys'] of shape "
                             f'{tuple(keys.shape)}')
        with autocast_disabled(keys.device):
            loss = self._transport_loss(keys.float(), student_logits.float(),
                                        teacher_logits.float())
        return self.loss_weight * loss

    def transport_plans(self, keys: Tensor, pairs: Tensor) -> Tensor:
        """Sinkhorn plans between the frames of every pair.

        Args:
            keys: ``(B, T, C, h, w)`` teacher keys.
            pairs: ``(Q, 2)`` frame index pairs ``(i, j)``.

        Returns:
            Tensor: ``(B, Q, N, N)`` plans, rows frame ``i``, columns frame
            ``j``, without gradient.
        """
        with torch.no_grad():
            tokens = F.normalize(keys.flatten(3).transpose(2, 3), dim=-1)
            source, target = tokens[:, pairs[:, 0]], tokens[:, pairs[:, 1]]
            cosine = torch.einsum('bqnc,bqmc->bqnm', source, target)
            return log_sinkhorn(1 - cosine,
                                source.abs().sum(-1),
                                target.abs().sum(-1), self.eps,
                                self.num_iters)

    def _transport_loss(self, keys: Tensor, student_logits: Tensor,
                        teacher_logits: Tensor) -> Tensor:
        """The plan-weighted cross-entropy, float32 inputs.

        Args:
            keys: ``(B, T, C, h, w)``.
            student_logits: ``(B, T, S, N)``.
            teacher_logits: ``(B, T, S, N)``.

        Returns:
            Tensor: scalar loss.
        """
        pairs = ordered_frame_pairs(keys.shape[1], keys.device)
        plans = self.transport_plans(keys, pairs)
        student_log_probs = torch.log(
            student_logits.softmax(dim=2) + LOG_OFFSET)[:, pairs[:, 0]]
        teacher_probs = teacher_logits.softmax(dim=2)[:, pairs[:, 1]]
        transported = torch.einsum('bquv,bqsv->bqsu', plans, teacher_probs)
        num_terms = plans.shape[0] * plans.shape[1]
        return -(student_log_probs * transported).sum() / num_terms
