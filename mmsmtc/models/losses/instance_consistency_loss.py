"""SMTC instance consistency: matched instance slots agree across frames."""
from typing import Dict, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmsmtc.registry import MODELS
from .assignment import (MAX_ENUMERATED_SIZE, linear_assignment,
                         official_match_indices)
from .utils import autocast_disabled, get_checked_tensor


def valid_instance_mask(semantic_logits: Tensor,
                        slots: Tensor,
                        instance_slots: Tensor,
                        assignment_threshold: float = 0.3,
                        area_threshold: float = 0.2,
                        similarity_threshold: float = 0.5) -> Tensor:
    """The official SMTC ``filter_valid_instance``.

    An instance ``p`` of semantic slot ``s`` in frame ``t`` is valid when
    both

    - its semantic slot covers enough of the frame: the fraction of the
      ``N`` positions whose softmax-over-slots probability for ``s`` is
      ``> assignment_threshold`` is itself ``> area_threshold``, and
    - it stays close to its semantic centre: the cosine similarity between
      ``slots[..., s, :]`` and ``instance_slots[..., s, p, :]`` is
      ``> similarity_threshold``.

    Both comparisons are strict, as officially; cosines use
    ``F.normalize`` (a zero vector has cosine 0 with everything).

    Args:
        semantic_logits: ``(B, T, S, N)`` slot-attention logits.
        slots: ``(B, T, S, C)`` semantic slots.
        instance_slots: ``(B, T, S, P, C)`` instance slots.
        assignment_threshold: Probability above which a position belongs
            to a slot.
        area_threshold: Fraction of positions above which a slot exists.
        similarity_threshold: Cosine above which an instance is valid.

    Returns:
        Tensor: ``(B, T, S, P)`` float mask of 0/1, without gradient.
    """
    with torch.no_grad():
        probabilities = semantic_logits.softmax(dim=-2)
        area = (probabilities > assignment_threshold).float().mean(dim=-1)
        similarity = torch.einsum('btsc,btspc->btsp',
                                  F.normalize(slots, dim=-1),
                                  F.normalize(instance_slots, dim=-1))
        valid = ((similarity > similarity_threshold)
                 & (area > area_threshold).unsqueeze(-1))
    return valid.float()


@MODELS.register_module()
class InstanceConsistencyLoss(nn.Module):
    """Instance consistency loss of SMTC (official ``object_loss``).

    For every ordered frame pair ``(i, j)`` -- all ``T * T`` of them, the
    diagonal ``i == j`` included, as in the official code (the paper's
    formula writes ``t != j``) -- and every semantic slot, the ``P``
    student instance embeddings of frame ``i`` are matched one-to-one to
    the ``P`` teacher embeddings of frame ``j`` by minimal total
    ``1 - similarity`` (under ``no_grad``). Each valid student instance
    then, with ``sim`` the dot product of the embeddings,

    - pulls its match: ``- valid_teacher[match] * sim(match)``, and
    - pushes the ``P - 1`` others below the margin:
      ``mean_q relu(sim(q) - margin)``.

    The sum over pairs, slots and instances is divided by
    ``sum(valid_student + 1e-10)`` over the ``T * T`` pairs, i.e. by
    ``T * sum(valid_student + 1e-10)``: zero valid instances give loss 0.
    Validity is :func:`valid_instance_mask` of the student's and the
    teacher's own outputs. Gradients reach both embeddings through the
    similarities; the matching and the validity masks carry none.

    The embeddings are used as given, as officially: the SMTC head
    L2-normalises them, so ``sim`` is a cosine. The loss runs in float32
    with autocast disabled. Matching runs on the device for
    ``P <= max_enumerated_instances`` and with scipy on the host above
    (see :mod:`mmsmtc.models.losses.assignment`).

    Args:
        loss_weight: Factor of the loss (official: 1).
        loss_name: Key of the loss in the loss dict (default
            ``'loss_instance'``).
        margin: Similarity margin of the negatives (official: 0.5).
        assignment_threshold: See :func:`valid_instance_mask`.
        area_threshold: See :func:`valid_instance_mask`.
        similarity_threshold: See :func:`valid_instance_mask`.
        max_enumerated_instances: Largest ``P`` matched on the device.

    Inputs (``student_out`` and ``teacher_out``, same shapes):
        - ``semantic_logits``: ``(B, T, S, N)``.
        - ``slots``: ``(B, T, S, C)``.
        - ``instance_slots``: ``(B, T, S, P, C)``.
        - ``instance_embeddings``: ``(B, T, S, P, D)``.

    Returns:
        Tensor: scalar float32 loss.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_instance',
                 margin: float = 0.5,
                 assignment_threshold: float = 0.3,
                 area_threshold: float = 0.2,
                 similarity_threshold: float = 0.5,
                 max_enumerated_instances: int = MAX_ENUMERATED_SIZE):
        super().__init__()
        self.loss_weight = loss_weight
        self.loss_name = loss_name
        self.margin = margin
        self.assignment_threshold = assignment_threshold
        self.area_threshold = area_threshold
        self.similarity_threshold = similarity_threshold
        self.max_enumerated_instances = max_enumerated_instances

    def _read_outputs(self, outputs: Mapping[str, Tensor], outputs_name: str,
                      sizes: Dict[str, int]) -> Dict[str, Tensor]:
        """Check and fetch the four tensors the loss reads, as float32."""
        dims = {
            'semantic_logits': 'B T S N',
            'slots': 'B T S C',
            'instance_slots': 'B T S P C',
            'instance_embeddings': 'B T S P D',
        }
        return {
            key: get_checked_tensor(outputs, outputs_name, key, key_dims,
                                    sizes).float()
            for key, key_dims in dims.items()
        }

    def _valid(self, outputs: Dict[str, Tensor]) -> Tensor:
        """``(B, T, S, P)`` validity of one model output."""
        return valid_instance_mask(outputs['semantic_logits'],
                                   outputs['slots'],
                                   outputs['instance_slots'],
                                   self.assignment_threshold,
                                   self.area_threshold,
                                   self.similarity_threshold)

    def forward(self, student_out: Mapping[str, Tensor],
                teacher_out: Mapping[str, Tensor]) -> Tensor:
        """Compute the loss; see the class docstring for the inputs."""
        sizes: Dict[str, int] = {}
        student = self._read_outputs(student_out, 'student_out', sizes)
        teacher = self._read_outputs(teacher_out, 'teacher_out', sizes)
        if sizes['P'] < 2:
            raise ValueError(
                'InstanceConsistencyLoss needs P >= 2 instances per slot (the '
                'negatives of a match are the other P - 1), got '
                "student_out['instance_embeddings'] of shape "
                f"{tuple(student['instance_embeddings'].shape)}")
        with autocast_disabled(student['instance_embeddings'].device):
            loss = self._pairwise_loss(student['instance_embeddings'],
                                       teacher['instance_embeddings'],
                                       self._valid(student),
                                       self._valid(teacher))
        return self.loss_weight * loss

    def _pairwise_loss(self, embeddings: Tensor, teacher_embeddings: Tensor,
                       valid_student: Tensor,
                       valid_teacher: Tensor) -> Tensor:
        """The matched pull/push loss over all ``T * T`` frame pairs.

        Args:
            embeddings: ``(B, T, S, P, D)`` student embeddings.
            teacher_embeddings: ``(B, T, S, P, D)`` teacher embeddings.
            valid_student: ``(B, T, S, P)`` student validity.
            valid_teacher: ``(B, T, S, P)`` teacher validity.

        Returns:
            Tensor: scalar loss.
        """
        batch, frames, num_slots, num_instances = valid_student.shape
        # similarity[b, i, j, s, p, q]: student (i, p) against teacher (j, q)
        similarity = torch.einsum('bispd,bjsqd->bijspq', embeddings,
                                  teacher_embeddings)
        with torch.no_grad():
            columns = linear_assignment(
                (1 - similarity).reshape(-1, num_instances, num_instances),
                self.max_enumerated_instances).view(similarity.shape[:-1])
            match_index = official_match_indices(columns)
        positive = similarity.gather(-1, match_index[..., :1]).squeeze(-1)
        negative = similarity.gather(-1, match_index[..., 1:])
        teacher_valid_matched = valid_teacher.unsqueeze(1).expand(
            batch, frames, frames, num_slots, num_instances).gather(
                -1, columns)
        per_instance = valid_student.unsqueeze(2) * (
            F.relu(negative - self.margin).mean(dim=-1)
            - teacher_valid_matched * positive)
        normaliser = frames * (valid_student + 1e-10).sum()
        return per_instance.sum() / normaliser
