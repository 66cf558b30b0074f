"""Spa-then-Temp's temporal step: LAB reconstruction and correlation
distillation on frame pairs (Li & Liu, CVPR 2023)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmsmtc.ops import rgb_to_lab, windowed_affinity
from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from .base import BaseVideoSSL, ModuleOrCfg, build_module

#: Spa-then-Temp's LAB normalisation (``img_norm_cfg_lab``).
LAB_MEAN = (50.0, 0.0, 0.0)
LAB_STD = (50.0, 127.0, 127.0)
#: The chroma channels (a, b) the channel dropout draws from.
CHROMA_CHANNELS = (1, 2)


@MODELS.register_module()
class SpaThenTemp(BaseVideoSSL):
    """Step 2 of Spa-then-Temp: temporal learning on pairs of frames.

    The official ``Framework.forward_train``
    (qianduoduolr/Spa-then-Temp ``vcl/models/trackers/framework.py``).
    Call graph of one step (``B`` clips of 2 frames: reference, target)::

        inputs (B, 2, 3, H, W) RGB, ImageNet-normalised (the teacher's)
          |-- LAB: de-normalise, OpenCV RGB->Lab, (50,0,0)/(50,127,127)
          |-- chroma dropout: one channel c in {a, b} drawn per step,
          |   zeroed in every frame, all channels x 1.5 (student input)
          |-- student backbone -> maps of len(radius) + 1 levels
          |   (R18/R50 with stem pool 'none', strides (1, 2, 2, 4):
          |    layer2 s4, layer3 s8, layer4 s32)
          |     levels l < L: windowed affinity target->reference
          |       (radius[l], 1/sqrt(C)) -> ChromaReconstructionLoss(l),
          |       LocalCorrelationDistillLoss (level 0 -> level 1)
          |     last level: global maps -> GlobalCorrelationDistillLoss
          '-- teacher backbone (frozen, eval, no_grad) on the RGB inputs
              -> last map of both frames -> GlobalCorrelationDistillLoss

    The teacher is a separate, fixed network (a standard ResNet-50 in the
    official recipe, whatever the student), not the base class's EMA
    teacher, which copies the student's architecture. It is never trained
    (no gradients) and always in eval mode, as officially (``.eval()``
    before every forward; the optimizer holds the student only). Both are
    initialised from step 1's weights (``init_cfg`` of each backbone).

    Args:
        backbone (dict | nn.Module): The student; returns the maps of the
            reconstruction levels then the global level (``out_indices=(1,
            2, 3)``). Its input is LAB.
        teacher_backbone (dict | nn.Module, optional): Returns the
            teacher's map (last of a tuple) of RGB frames. None: the
            temporal-only variant (official ``backbone_t=None``; give the
            student ``out_indices=(1, 2)`` and drop the global loss).
        radius (Sequence[int]): Window radius of each reconstruction level
            (official 12, 6 cells: +-48 pixels at strides 4 and 8).
        downsample_rate (Sequence[int]): Stride of each reconstruction
            level (4, 8).
        chroma_drop_scale (float): Factor on the LAB input after the
            dropout (official ``3 / (3 - 1)``).
        lab_mean, lab_std (Sequence[float]): LAB normalisation.
        **kwargs: :class:`BaseVideoSSL` arguments (``losses``,
            ``data_preprocessor``, ``init_cfg``). The losses are called
            with the dict of :meth:`_forward`.
    """

    def __init__(self,
                 backbone: ModuleOrCfg,
                 teacher_backbone: Optional[ModuleOrCfg] = None,
                 radius: Sequence[int] = (12, 6),
                 downsample_rate: Sequence[int] = (4, 8),
                 chroma_drop_scale: float = 1.5,
                 lab_mean: Sequence[float] = LAB_MEAN,
                 lab_std: Sequence[float] = LAB_STD,
                 **kwargs) -> None:
        super().__init__(backbone, **kwargs)
        if len(radius) != len(downsample_rate) or len(radius) < 2:
            raise ValueError(
                'radius and downsample_rate need one value per '
                'reconstruction level (at least 2), got '
                f'{tuple(radius)} and {tuple(downsample_rate)}')
        self.radius = tuple(int(r) for r in radius)
        self.downsample_rate = tuple(int(r) for r in downsample_rate)
        self.chroma_drop_scale = chroma_drop_scale
        self.register_buffer('lab_mean',
                             torch.tensor(lab_mean).view(3, 1, 1),
                             persistent=False)
        self.register_buffer('lab_std', torch.tensor(lab_std).view(3, 1, 1),
                             persistent=False)
        self.teacher_backbone = build_module(teacher_backbone)
        if self.teacher_backbone is not None:
            self.teacher_backbone.requires_grad_(False)
            self.teacher_backbone.eval()

    def train(self, mode: bool = True) -> 'SpaThenTemp':
        """Switch modes; the teacher stays in eval mode."""
        super().train(mode)
        if self.teacher_backbone is not None:
            self.teacher_backbone.eval()
        return self

    # ------------------------------------------------------------------
    # inputs
    def lab_frames(self, inputs: Tensor) -> Tensor:
        """``(..., 3, H, W)`` ImageNet-normalised RGB -> normalised LAB
        (the official ``RGB2LAB`` of the uint8 frames, then
        ``(x - lab_mean) / lab_std``)."""
        preprocessor = self.data_preprocessor
        if getattr(preprocessor, 'color_space', 'rgb') != 'rgb':
            raise ValueError('SpaThenTemp converts to LAB itself: its data '
                             "preprocessor must deliver RGB (color_space="
                             f"'rgb'), got {preprocessor.color_space!r}")
        rgb = inputs * preprocessor.std + preprocessor.mean
        return (rgb_to_lab(rgb) - self.lab_mean) / self.lab_std

    def draw_drop_channel(self,
                          generator: Optional[torch.Generator] = None
                          ) -> int:
        """The chroma channel (1: a, 2: b) dropped this step, one for the
        whole batch (officially ``np.random``; here ``torch``'s generator,
        seeded by the runner)."""
        index = torch.randint(len(CHROMA_CHANNELS), (), generator=generator)
        return CHROMA_CHANNELS[int(index)]

    def drop_chroma(self, lab: Tensor, channel: int) -> Tensor:
        """Zero ``channel`` of every frame, scale all channels by
        ``chroma_drop_scale`` (official ``dropout2d_lab``)."""
        if channel not in CHROMA_CHANNELS:
            raise ValueError(f'the dropped channel must be one of '
                             f'{CHROMA_CHANNELS} (a, b), got {channel}')
        dropped = lab.clone()
        dropped[..., channel, :, :] = 0
        return dropped * self.chroma_drop_scale

    # ------------------------------------------------------------------
    # forward
    def _forward(self,
                 inputs: Tensor,
                 data_samples: Optional[List[VideoDataSample]] = None,
                 drop_channel: Optional[int] = None) -> Dict:
        """Everything the losses read, for ``(B, 2, 3, H, W)`` clips.

        Args:
            inputs: ImageNet-normalised RGB pairs (reference, target).
            data_samples: Unused.
            drop_channel: The chroma channel to drop (1 or 2); None draws
                it (:meth:`draw_drop_channel`).

        Returns:
            dict: ``lab`` ``(B, 2, 3, H, W)`` clean normalised LAB,
            ``drop_channel``, ``levels`` (per reconstruction level:
            ``target``/``reference`` maps ``(B, C, h, w)``, ``affinity``
            ``(B, N, N)``, ``radius``, ``downsample_rate``), ``global``
            (``target``/``reference`` of the last student map, or None
            when the backbone returns only the reconstruction levels) and
            ``teacher`` (the teacher's ``(target, reference)`` maps, or
            None).
        """
        if inputs.dim() != 5 or inputs.shape[1] != 2:
            raise ValueError('SpaThenTemp trains on (B, 2, 3, H, W) frame '
                             f'pairs, got {tuple(inputs.shape)}')
        batch = inputs.shape[0]
        lab = self.lab_frames(inputs)
        if drop_channel is None:
            drop_channel = self.draw_drop_channel()
        student_in = self.drop_chroma(lab, drop_channel)
        maps = self.backbone(student_in.flatten(0, 1))
        levels = len(self.radius)
        if not isinstance(maps, (tuple, list)) or \
                len(maps) not in (levels, levels + 1):
            raise ValueError(
                f'the student backbone must return {levels} maps (the '
                'reconstruction levels), plus the global one with a '
                'teacher')
        pairs = [self._pair(feat, batch) for feat in maps]
        outputs = dict(lab=lab, drop_channel=drop_channel, levels=[],
                       teacher=self._teacher_maps(inputs), **{'global': None})
        for (target, reference), radius, rate in zip(
                pairs, self.radius, self.downsample_rate):
            outputs['levels'].append(
                dict(target=target, reference=reference, radius=radius,
                     downsample_rate=rate,
                     affinity=windowed_affinity(target, reference, radius)))
        if len(pairs) > levels:
            target, reference = pairs[-1]
            outputs['global'] = dict(target=target, reference=reference)
        return outputs

    @staticmethod
    def _pair(feat: Tensor, batch: int) -> Tuple[Tensor, Tensor]:
        """``(B*2, C, h, w)`` -> (target, reference) maps."""
        feat = feat.unflatten(0, (batch, 2))
        return feat[:, 1], feat[:, 0]

    @torch.no_grad()
    def _teacher_maps(self, inputs: Tensor) -> Optional[Tuple[Tensor,
                                                              Tensor]]:
        if self.teacher_backbone is None:
            return None
        self.teacher_backbone.eval()
        maps = self.teacher_backbone(inputs.flatten(0, 1))
        if isinstance(maps, (tuple, list)):
            maps = maps[-1]
        return self._pair(maps, inputs.shape[0])

    def loss_inputs(self, inputs: Tensor,
                    data_samples: Optional[List[VideoDataSample]]
                    ) -> Tuple[Dict]:
        """The :meth:`_forward` dict, a channel drawn."""
        return (self._forward(inputs), )

    def predict_clip(self, clip: Tensor, generator=None):
        raise NotImplementedError(
            'SpaThenTemp is evaluated by label propagation: test its '
            'checkpoint with a LabelPropagationSegmentor config (the '
            'student backbone is read from the backbone. keys)')
