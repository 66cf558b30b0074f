"""SMTC: student/EMA-teacher training of two-stage slot attention on video."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from ..utils import check_video_clips
from .base import BaseVideoSSL, ModuleOrCfg


@MODELS.register_module()
class SMTC(BaseVideoSSL):
    """Semantics Meets Temporal Correspondence (Qian et al., ICCV 2023).

    Call graph (``B`` clips of ``T`` frames; ``S`` semantic slots, ``P``
    instances per slot, ``h x w`` feature grid, ``L = h * w``)::

        inputs (B, T, 3, H, W), normalised by the data preprocessor
          |-- [loss only] view_augment, drawn separately per branch
          |
          |   student (trained)                teacher (EMA, eval, no_grad)
          |-- backbone  (B*T, 3, H, W) -> keys (B*T, C, h, w)   [no_grad
          |             while the backbone is frozen]
          |-- neck      CorrelationFusion: (B, T, C, h, w) -> same shape
          |-- head      TwoStageSlotAttention on (B*T, L, C) tokens
          |-- outputs reshaped to (B, T, ...)       -- same for teacher --
          |
          |-- mode='tensor'  -> dict of the student outputs (_forward)
          |-- mode='loss'    -> each of `losses`(student_out, teacher_out):
          |                     loss_semantic, loss_instance, loss_diversity
          '-- mode='predict' -> clips of test_clip_len frames -> per-slot
                                masks, scores, embeddings (predict_clip)

    Everything else is :class:`BaseVideoSSL`'s:

    - EMA teacher: a copy of backbone, neck and head updated as
      ``teacher = m * teacher + (1 - m) * student`` before each step from
      the second on (the official order). The official recipe keeps the
      teacher's backbone at the pretrained weights
      (``teacher=dict(momentum=0.999, frozen_parts=('backbone',))``); with
      ``frozen_parts=()`` it follows the student's backbone once that
      trains (the official ``src/train.py`` zips every parameter; while the
      backbone is frozen that part is skipped because it is a no-op).
    - Frozen encoder (``frozen_backbone_iters``, the official ``grad_iter``):
      the student backbone runs without autograd (no graph, no backward
      through it) and with frozen BatchNorm statistics; the official code
      computes that backward and zeroes the learning rate instead.
      Afterwards it trains at the learning rate the optimizer constructor
      gives it (0.01x, :class:`BackboneLrMultOptimWrapperConstructor`).
    - Augmentation: the official ``aug_gpu`` (grayscale, colour jitter,
      blur, then normalisation) is drawn independently for the student's
      and the teacher's input of the same clip, so it cannot live in the
      data pipeline, which produces one view; ``view_augment`` does it
      here. The official ``sample_weight`` is passed to the model but never
      used by it, so it has no counterpart.

    Args:
        backbone (dict | nn.Module): Returns a tensor or a tuple of
            ``(N, C, h, w)`` maps; ``backbone(x)[out_index]`` is used (the
            ViT's last-block attention keys for the official model).
        neck (dict | nn.Module): Temporal fusion, ``(B, T, C, h, w)`` in
            and out.
        head (dict | nn.Module): Two-stage slot attention on tokens.
        teacher (dict): The EMA teacher (``momentum``, ``frozen_parts``).
        **kwargs: The other arguments of :class:`BaseVideoSSL` (``losses``,
            ``frozen_backbone_iters``, ``view_augment``, ``test_clip_len``
            -- the official evaluation uses the training clip length, 4 --,
            ``data_preprocessor``, ...). The losses are called as
            ``loss(student_out, teacher_out)`` with :meth:`_forward` dicts.
    """

    #: ``pred_group_maps`` (semantic slots), ``pred_slot_masks`` (instances).
    mask_fields = ('pred_group_maps', 'pred_slot_masks')

    def __init__(self,
                 backbone: ModuleOrCfg,
                 neck: ModuleOrCfg,
                 head: ModuleOrCfg,
                 teacher: Optional[dict] = None,
                 **kwargs) -> None:
        teacher = {
            **dict(momentum=0.999, frozen_parts=('backbone', )),
            **(teacher or {})
        }
        super().__init__(backbone, neck, head, teacher=teacher, **kwargs)

    def _forward(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[VideoDataSample]] = None,
        instance_noise: Optional[torch.Tensor] = None
    ) -> Dict[str, torch.Tensor]:
        """Student outputs of every frame.

        Args:
            inputs: ``(B, T, 3, H, W)`` normalised clips.
            data_samples: Unused.
            instance_noise: ``(B*T, S, P, C)`` noise of the instance
                initialisation; drawn from the global generator when None.

        Returns:
            dict[str, Tensor]: ``keys (B, T, C, h, w)`` (backbone keys
            before fusion, the official ``frame``), ``semantic_logits
            (B, T, S, L)``, ``slots (B, T, S, C)``, ``instance_logits
            (B, T, S, P, L)``, ``instance_slots (B, T, S, P, C)``,
            ``instance_embeddings (B, T, S, P, D)`` (the official
            ``objects``: projected, L2-normalised instance slots).
        """
        check_video_clips(inputs, type(self).__name__)
        return self._run_branch(inputs, instance_noise=instance_noise)

    def _run_branch(self,
                    inputs: torch.Tensor,
                    teacher: bool = False,
                    instance_noise: Optional[torch.Tensor] = None,
                    frozen: bool = False) -> Dict[str, torch.Tensor]:
        """Backbone, neck and head of the student or of the teacher."""
        parts = self.branch(teacher)
        batch, frames = inputs.shape[:2]
        keys = self.extract_feat(inputs.flatten(0, 1), parts['backbone'],
                                 frozen).unflatten(0, (batch, frames))
        fused = parts['neck'](keys)
        tokens = fused.flatten(3).transpose(2, 3).flatten(0, 1)
        outputs = {
            name: value.unflatten(0, (batch, frames))
            for name, value in parts['head'](tokens, instance_noise).items()
        }
        outputs['keys'] = keys
        return outputs

    def loss_inputs(
        self, inputs: torch.Tensor,
        data_samples: Optional[List[VideoDataSample]]
    ) -> Tuple[Dict[str, torch.Tensor], Dict[str, torch.Tensor]]:
        """Student and teacher outputs of two independently augmented views
        (the teacher without autograd)."""
        student_out = self._run_branch(self.augment(inputs),
                                       frozen=self.backbone_frozen())
        with torch.no_grad():
            teacher_out = self._run_branch(self.augment(inputs), teacher=True)
        return student_out, teacher_out

    def predict_clip(self,
                     clip: torch.Tensor,
                     generator: Optional[torch.Generator] = None
                     ) -> Dict[str, torch.Tensor]:
        """Per-slot masks of one clip (official inference post-processing).

        The cyclic correlation of the neck pairs the clip's first frame with
        its last, so results depend on the clip split (``test_clip_len``).

        Args:
            clip: ``(t, 3, H, W)`` normalised frames.
            generator: Source of the instance noise (per video); None draws
                from the global generator.

        Returns:
            dict[str, Tensor]: at the ``h x w`` feature grid, ``K = S * P``
            slot-major (index ``s * P + p``):

            - ``pred_group_maps`` ``(t, S, h, w)``: raw semantic logits;
              their softmax over ``S`` is the official semantic mask.
            - ``pred_slot_masks`` ``(t, K, h, w)``: soft instance masks
              ``softmax_S(semantic) * softmax_P(instance)``.
            - ``pred_slot_scores`` ``(t, K)``: cosine similarity of each
              instance slot with its semantic slot (the official evaluation
              keeps instances scoring >= 0.5).
            - ``pred_slot_embeddings`` ``(t, K, D)``: L2-normalised instance
              embeddings, used to link objects over time.
        """
        noise = None
        if generator is not None:
            noise = self.head.draw_instance_noise(len(clip), generator)
        out = self._run_branch(clip[None], instance_noise=noise)
        grid = out['keys'].shape[-2:]
        slots = F.normalize(out['slots'][0], dim=-1)
        instances = F.normalize(out['instance_slots'][0], dim=-1)
        scores = torch.einsum('tsc,tspc->tsp', slots, instances)
        semantic = out['semantic_logits'][0].softmax(dim=-2)
        instance = out['instance_logits'][0].softmax(dim=-2)
        masks = semantic.unsqueeze(-2) * instance
        return dict(
            pred_group_maps=out['semantic_logits'][0].unflatten(-1, grid),
            pred_slot_masks=masks.flatten(1, 2).unflatten(-1, grid),
            pred_slot_scores=scores.flatten(1, 2),
            pred_slot_embeddings=out['instance_embeddings'][0].flatten(1, 2))

    def video_fields(self) -> Dict[str, torch.Tensor]:
        """``pred_slot_groups`` ``(K,)``: the semantic slot of each instance
        slot (``k // P``)."""
        return dict(pred_slot_groups=torch.arange(
            self.head.num_slots * self.head.num_instances) //
                    self.head.num_instances)
