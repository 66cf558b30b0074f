"""SMTC: student/EMA-teacher training of two-stage slot attention on video."""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample

ModuleOrCfg = Union[dict, nn.Module]
BRANCH_PARTS = ('backbone', 'neck', 'head')
LOSS_NAMES = ('semantic', 'instance', 'diversity')


def _build(component: Optional[ModuleOrCfg]) -> Optional[nn.Module]:
    """Build a config dict with ``MODELS``; pass modules and None through."""
    if component is None or isinstance(component, nn.Module):
        return component
    return MODELS.build(component)


def clip_frame_indices(num_frames: int, clip_len: int) -> List[List[int]]:
    """Split ``num_frames`` frames into clips the way the official eval does.

    Consecutive clips of ``clip_len`` frames; a short last clip is completed
    with the video's last frames (official ``rgbs[:, -(n_f - bs):]``), e.g.
    10 frames, ``clip_len=4`` -> ``[0..3], [4..7], [8, 9, 8, 9]``. The
    padding never repeats a frame twice (Python slicing, as official): a
    1-frame video gives the 2-frame clip ``[0, 0]``.

    Returns:
        list[list[int]]: Frame indices of every clip; only the first
        ``min(clip_len, num_frames - start)`` entries of a clip are its own
        frames.
    """
    clips = []
    for start in range(0, num_frames, clip_len):
        own = list(range(start, min(start + clip_len, num_frames)))
        missing = clip_len - len(own)
        pad = list(range(num_frames))[-missing:] if missing else []
        clips.append(own + pad)
    return clips


@MODELS.register_module()
class SMTC(BaseModel):
    """Semantics Meets Temporal Correspondence (Qian et al., ICCV 2023).

    Call graph (``B`` clips of ``T`` frames; ``S`` semantic slots, ``P``
    instances per slot, ``h x w`` feature grid, ``L = h * w``)::

        inputs (B, T, 3, H, W), normalised by the data preprocessor
          |-- [loss only] view_augment, drawn separately per branch
          |
          |   student (trained)                teacher (EMA, eval, no_grad)
          |-- backbone  (B*T, 3, H, W) -> keys (B*T, C, h, w)   [no_grad
          |             while iteration < grad_iter]
          |-- neck      CorrelationFusion: (B, T, C, h, w) -> same shape
          |-- head      TwoStageSlotAttention on (B*T, L, C) tokens
          |-- outputs reshaped to (B, T, ...)       -- same for teacher --
          |
          |-- mode='tensor'  -> dict of the student outputs (see _forward)
          |-- mode='loss'    -> semantic_loss / instance_loss /
          |                     diversity_loss (student_out, teacher_out)
          '-- mode='predict' -> clips of test_clip_len frames -> softmax
                                masks and scores in VideoDataSample

    EMA teacher: a copy of backbone, neck and head with
    ``requires_grad=False``, kept in eval mode by :meth:`train`, updated as
    ``teacher = m * teacher + (1 - m) * student``. The teacher's backbone is
    excluded from the EMA by default (``ema_backbone=False``, the official
    recipe: the teacher encodes with the pretrained weights); with
    ``ema_backbone=True`` it follows the student's backbone once that
    trains (the indexed ``src/train.py`` zips every parameter; while the
    backbone is frozen that part is skipped because it is a no-op). The
    update runs at the start of each ``loss`` call from the second call on,
    i.e. right after the previous optimizer step and before the teacher is
    used, which is the official order and needs no hook, works unchanged
    under DDP and survives resuming (the call counter is a persistent
    buffer, ``num_train_iters``). The counter counts ``loss`` calls: with
    gradient accumulation over ``k`` micro-batches scale ``grad_iter`` by
    ``k``.

    Frozen encoder: while ``num_train_iters < grad_iter`` the student
    backbone runs under ``torch.no_grad`` (no graph, no backward through
    it); the official code computes that backward and zeroes the learning
    rate instead. Afterwards it trains at the learning rate the optimizer
    constructor gives it (0.01x, :class:`SMTCOptimWrapperConstructor`).

    Augmentation: the official ``aug_gpu`` (grayscale, colour jitter,
    blur, then normalisation) is drawn independently for the student's and
    the teacher's input of the same clip, so it cannot live in the data
    pipeline, which produces one view; ``view_augment`` (optional) is
    applied here to each branch's normalised input. Geometric sampling,
    resizing and normalisation belong to the data pipeline and the data
    preprocessor. The official ``sample_weight`` is passed to the model but
    never used by it, so it has no counterpart.

    Args:
        backbone (dict | nn.Module): Returns a tensor or a tuple of
            ``(N, C, h, w)`` maps; ``backbone(x)[key_index]`` is used (the
            ViT's last-block attention keys for the official model).
        neck (dict | nn.Module): Temporal fusion, ``(B, T, C, h, w)`` in
            and out.
        head (dict | nn.Module): Two-stage slot attention on tokens.
        semantic_loss, instance_loss, diversity_loss (dict | nn.Module,
            optional): Loss modules called as ``loss(student_out,
            teacher_out) -> Tensor`` with the ``tensor``-mode dicts.
        key_index (int): Which backbone output feeds the neck. Defaults to
            -1.
        grad_iter (int): Training iterations with a frozen backbone.
        ema_momentum (float): Teacher momentum. Defaults to 0.999.
        ema_backbone (bool): Whether the teacher's backbone follows the
            student's by EMA after ``grad_iter``. Defaults to False.
        test_clip_len (int, optional): Frames per clip in ``predict``
            (official: the training clip length, 4); None runs the whole
            input as one clip.
        view_augment (dict | nn.Module, optional): Per-branch augmentation
            of normalised ``(B, T, 3, H, W)`` clips, training only.
        data_preprocessor (dict | nn.Module, optional): Builds ``inputs``.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 backbone: ModuleOrCfg,
                 neck: ModuleOrCfg,
                 head: ModuleOrCfg,
                 semantic_loss: Optional[ModuleOrCfg] = None,
                 instance_loss: Optional[ModuleOrCfg] = None,
                 diversity_loss: Optional[ModuleOrCfg] = None,
                 key_index: int = -1,
                 grad_iter: int = 0,
                 ema_momentum: float = 0.999,
                 ema_backbone: bool = False,
                 test_clip_len: Optional[int] = None,
                 view_augment: Optional[ModuleOrCfg] = None,
                 data_preprocessor: Optional[ModuleOrCfg] = None,
                 init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if not 0.0 <= ema_momentum <= 1.0:
            raise ValueError(
                f'ema_momentum must be in [0, 1], got {ema_momentum}')
        if test_clip_len is not None and test_clip_len < 1:
            raise ValueError(
                f'test_clip_len must be >= 1 or None, got {test_clip_len}')
        self.backbone = _build(backbone)
        self.neck = _build(neck)
        self.head = _build(head)
        self.semantic_loss = _build(semantic_loss)
        self.instance_loss = _build(instance_loss)
        self.diversity_loss = _build(diversity_loss)
        self.view_augment = _build(view_augment)
        self.key_index = key_index
        self.grad_iter = grad_iter
        self.ema_momentum = ema_momentum
        self.ema_backbone = ema_backbone
        self.test_clip_len = test_clip_len
        self.teacher = nn.ModuleDict({
            part: copy.deepcopy(getattr(self, part))
            for part in BRANCH_PARTS
        })
        self.teacher.requires_grad_(False)
        # The counter lives in a buffer (saved with checkpoints) and, for
        # decisions on the host without a device synchronisation, in a
        # Python int kept equal to it (see _load_from_state_dict).
        self.register_buffer('num_train_iters',
                             torch.zeros((), dtype=torch.long))
        self._train_iters = 0

    # ------------------------------------------------------------------
    # teacher
    def init_weights(self) -> None:
        """Initialise the student, then start the teacher as its copy."""
        super().init_weights()
        self.copy_student_to_teacher()

    @torch.no_grad()
    def copy_student_to_teacher(self) -> None:
        """Set every teacher parameter and buffer to the student's."""
        for part in BRANCH_PARTS:
            self.teacher[part].load_state_dict(
                getattr(self, part).state_dict())

    def train(self, mode: bool = True) -> 'SMTC':
        """Switch the student's mode; the teacher always stays in eval."""
        super().train(mode)
        self.teacher.eval()
        return self

    @property
    def backbone_frozen(self) -> bool:
        """Whether the current training iteration keeps the backbone fixed."""
        return self._train_iters < self.grad_iter

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Load as usual, then mirror ``num_train_iters`` on the host."""
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._train_iters = int(self.num_train_iters)

    @torch.no_grad()
    def update_teacher(self, include_backbone: bool = True) -> None:
        """One fused EMA step ``t = m * t + (1 - m) * s`` of all parameters.

        Args:
            include_backbone (bool): Also update the backbone (skipped while
                it is frozen, where the update changes nothing).
        """
        parts = BRANCH_PARTS if include_backbone else BRANCH_PARTS[1:]
        student = [
            p for part in parts for p in getattr(self, part).parameters()
        ]
        teacher = [
            p for part in parts for p in self.teacher[part].parameters()
        ]
        torch._foreach_mul_(teacher, self.ema_momentum)
        torch._foreach_add_(teacher, student, alpha=1.0 - self.ema_momentum)

    # ------------------------------------------------------------------
    # forward
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[VideoDataSample]] = None,
                mode: str = 'tensor',
                instance_noise: Optional[torch.Tensor] = None):
        """Dispatch to ``loss``, ``predict`` or ``_forward`` (``tensor``).

        Args:
            inputs (Tensor | list): ``(B, T, 3, H, W)`` normalised clips;
                ``predict`` also takes a list of lazy videos.
            data_samples (list[VideoDataSample], optional): One per clip.
            mode (str): ``'loss'``, ``'predict'`` or ``'tensor'``.
            instance_noise (Tensor, optional): ``(B*T, S, P, C)`` noise of
                the instance initialisation, ``tensor`` mode only.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples, instance_noise)
        raise ValueError(f'Invalid mode {mode!r}: SMTC supports "loss", '
                         '"predict" and "tensor"')

    def _forward(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[VideoDataSample]] = None,
        instance_noise: Optional[torch.Tensor] = None
    ) -> Dict[str, torch.Tensor]:
        """Student outputs of every frame.

        Returns:
            dict[str, Tensor]: ``keys (B, T, C, h, w)`` (backbone keys
            before fusion, the official ``frame``), ``semantic_logits
            (B, T, S, L)``, ``slots (B, T, S, C)``, ``instance_logits
            (B, T, S, P, L)``, ``instance_slots (B, T, S, P, C)``,
            ``instance_embeddings (B, T, S, P, D)`` (the official
            ``objects``: projected, L2-normalised instance slots).
        """
        return self._run_branch(inputs, instance_noise=instance_noise)

    def _run_branch(self,
                    inputs: torch.Tensor,
                    teacher: bool = False,
                    instance_noise: Optional[torch.Tensor] = None,
                    freeze_backbone: bool = False) -> Dict[str, torch.Tensor]:
        """Backbone, neck and head of the student or of the teacher."""
        _check_clips(inputs)
        parts = self.teacher if teacher else dict(
            backbone=self.backbone, neck=self.neck, head=self.head)
        batch, frames = inputs.shape[:2]
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not freeze_backbone):
            keys = self._extract_keys(parts['backbone'], inputs.flatten(0, 1))
        keys = keys.unflatten(0, (batch, frames))
        fused = parts['neck'](keys)
        tokens = fused.flatten(3).transpose(2, 3).flatten(0, 1)
        outputs = parts['head'](tokens, instance_noise)
        outputs = {
            name: value.unflatten(0, (batch, frames))
            for name, value in outputs.items()
        }
        outputs['keys'] = keys
        return outputs

    def _extract_keys(self, backbone: nn.Module,
                      frames: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` frames -> ``(N, C, h, w)`` backbone keys."""
        feats = backbone(frames)
        if isinstance(feats, (tuple, list)):
            feats = feats[self.key_index]
        if feats.dim() != 4:
            raise ValueError('the backbone output selected by key_index='
                             f'{self.key_index} must be (N, C, h, w), got '
                             f'{tuple(feats.shape)}')
        return feats

    def loss(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[VideoDataSample]] = None
    ) -> Dict[str, torch.Tensor]:
        """Student and teacher forward, then the configured losses.

        Returns:
            dict[str, Tensor]: ``loss_semantic``, ``loss_instance`` and
            ``loss_diversity`` for the configured loss modules.
        """
        losses = {name: getattr(self, f'{name}_loss') for name in LOSS_NAMES}
        losses = {
            name: module
            for name, module in losses.items() if module is not None
        }
        if not losses:
            raise RuntimeError('SMTC.loss needs at least one of '
                               'semantic_loss, instance_loss, diversity_loss')
        step = self._train_iters
        if step > 0:
            self.update_teacher(include_backbone=self.ema_backbone
                                and step - 1 >= self.grad_iter)
        student_out = self._run_branch(self._augment(inputs),
                                       freeze_backbone=self.backbone_frozen)
        with torch.no_grad():
            teacher_out = self._run_branch(self._augment(inputs), teacher=True)
        self.num_train_iters += 1
        self._train_iters += 1
        return {
            f'loss_{name}': module(student_out, teacher_out)
            for name, module in losses.items()
        }

    def _augment(self, inputs: torch.Tensor) -> torch.Tensor:
        """Apply ``view_augment`` (a fresh draw on every call) if set."""
        if self.view_augment is None:
            return inputs
        return self.view_augment(inputs)

    @torch.no_grad()
    def predict(
        self,
        inputs: Union[torch.Tensor, Sequence],
        data_samples: Optional[List[VideoDataSample]] = None
    ) -> List[VideoDataSample]:
        """Per-frame semantic logits, instance masks and instance scores.

        Each video is cut into clips of ``test_clip_len`` frames as the
        official evaluation does (:func:`clip_frame_indices`); the cyclic
        correlation therefore pairs a clip's first frame with its last.

        Args:
            inputs (Tensor | list): ``(B, T, 3, H, W)`` normalised videos, or
                ``B`` lazy videos (e.g. ``LazyFrameSequence``: indexing with a
                list of frame indices gives ``(t, H, W, 3)`` uint8), which
                are read and normalised one clip at a time by the data
                preprocessor's ``normalize_frames``.
            data_samples (list[VideoDataSample], optional): One per video;
                new ones are made when None.

        Returns:
            list[VideoDataSample]: with, at the ``h x w`` feature grid
            (the inference helpers resize):

            - ``pred_semantic_logits`` (Tensor): ``(T, S, h, w)`` raw logits;
              their softmax over ``S`` is the official semantic mask.
            - ``pred_instance_masks`` (Tensor): ``(T, S * P, h, w)`` soft
              masks ``softmax_S(semantic) * softmax_P(instance)``, slot-major
              (index ``s * P + p``).
            - ``pred_instance_scores`` (Tensor): ``(T, S * P)`` cosine
              similarity of each instance slot with its semantic slot (the
              official eval keeps instances scoring >= 0.5).
            - ``pred_instance_embeddings`` (Tensor): ``(T, S * P, D)``
              L2-normalised instance embeddings (the head's
              ``instance_embeddings``), used to link objects over time.
        """
        if isinstance(inputs, torch.Tensor):
            _check_clips(inputs)
            read_clip = _index_frames
        else:
            read_clip = self._read_lazy_clip
        if data_samples is None:
            data_samples = [VideoDataSample() for _ in range(len(inputs))]
        if len(data_samples) != len(inputs):
            raise ValueError(f'got {len(data_samples)} data samples for '
                             f'{len(inputs)} videos')
        for video, sample in zip(inputs, data_samples):
            outputs = self._predict_video(video, read_clip)
            (sample.pred_semantic_logits, sample.pred_instance_masks,
             sample.pred_instance_scores,
             sample.pred_instance_embeddings) = outputs
        return data_samples

    def _read_lazy_clip(self, video: Sequence,
                        indices: List[int]) -> torch.Tensor:
        """``(t, 3, H, W)`` normalised frames of a lazy video."""
        normalize = getattr(self.data_preprocessor, 'normalize_frames', None)
        if normalize is None:
            raise TypeError(
                'SMTC.predict got lazy videos but its data preprocessor '
                f'{type(self.data_preprocessor).__name__} has no '
                'normalize_frames; use VideoDataPreprocessor or pass a '
                '(B, T, 3, H, W) tensor')
        return normalize(video[indices])

    def _predict_video(self, video, read_clip):
        """Outputs of one video, ``(T, ...)`` each (see :meth:`predict`)."""
        frames = len(video)
        clip_len = self.test_clip_len or frames
        semantic, masks, scores, embeddings = [], [], [], []
        for indices in clip_frame_indices(frames, clip_len):
            own = min(clip_len, frames - indices[0])
            out = self._run_branch(read_clip(video, indices)[None])
            grid = out['keys'].shape[-2:]
            clip_semantic, clip_masks, clip_scores = _soft_masks(out)
            semantic.append(clip_semantic[0, :own].unflatten(-1, grid))
            masks.append(clip_masks[0, :own].unflatten(-1, grid))
            scores.append(clip_scores[0, :own])
            embeddings.append(out['instance_embeddings'][0, :own].flatten(
                1, 2))
        return (torch.cat(semantic), torch.cat(masks), torch.cat(scores),
                torch.cat(embeddings))


def _index_frames(video: torch.Tensor, indices: List[int]) -> torch.Tensor:
    """``(t, 3, H, W)`` frames ``indices`` of a ``(T, 3, H, W)`` video."""
    return video[indices]


def _soft_masks(outputs: Dict[str, torch.Tensor]):
    """Official inference post-processing of one clip's outputs.

    Returns:
        tuple[Tensor, Tensor, Tensor]: semantic logits ``(B, T, S, L)``,
        instance masks ``(B, T, S*P, L)`` and scores ``(B, T, S*P)``.
    """
    slots = F.normalize(outputs['slots'], dim=-1)
    instances = F.normalize(outputs['instance_slots'], dim=-1)
    scores = torch.einsum('btsc,btspc->btsp', slots, instances)
    semantic = outputs['semantic_logits'].softmax(dim=-2)
    instance = outputs['instance_logits'].softmax(dim=-2)
    masks = semantic.unsqueeze(-2) * instance
    return (outputs['semantic_logits'], masks.flatten(2,
                                                      3), scores.flatten(2, 3))


def _check_clips(inputs: torch.Tensor) -> None:
    """Fail loudly unless ``inputs`` is a ``(B, T, 3, H, W)`` tensor."""
    if not isinstance(inputs, torch.Tensor):
        raise TypeError('SMTC expects inputs as a (B, T, 3, H, W) tensor, '
                        f'got {type(inputs).__name__}')
    if inputs.dim() != 5 or inputs.shape[2] != 3:
        raise ValueError('SMTC expects inputs of shape (B, T, 3, H, W), '
                         f'got {tuple(inputs.shape)}')
