"""The base of mmsmtc's self-supervised video models."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModel
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from ..utils import EMATeacher, check_video_clips, stream_clips

ModuleOrCfg = Union[dict, nn.Module]


def build_module(component: Optional[ModuleOrCfg]) -> Optional[nn.Module]:
    """Build a config dict with ``MODELS``; pass modules and None through."""
    if component is None or isinstance(component, nn.Module):
        return component
    return MODELS.build(component)


class BaseVideoSSL(BaseModel):
    """Self-supervised video model: backbone, optional neck and head, losses.

    A subclass implements :meth:`_forward`, :meth:`loss_inputs` and
    :meth:`predict_clip` (and names its per-slot mask fields in
    :attr:`mask_fields`); everything else is shared.

    Call graph (``B`` clips of ``T`` frames)::

        forward(inputs (B, T, 3, H, W), data_samples, mode)
          |-- 'loss'    -> loss(): start of the step (teacher update,
          |                normalisation modes) -> loss_inputs() [subclass]
          |                -> every module of `losses` on those inputs
          |                -> {loss.loss_name: value}
          |-- 'tensor'  -> _forward() [subclass]: a dict of raw outputs
          '-- 'predict' -> predict(): each video in clips of test_clip_len
                           frames -> predict_clip() [subclass] -> per-frame
                           prediction fields of a VideoDataSample

    Keyword arguments of ``forward`` besides these go to :meth:`_forward`
    (``tensor``) or :meth:`loss_inputs` (``loss``), e.g. VideoSAUR's
    ``slot_init``.

    Recurrent models (:attr:`carries_clip_state` True) carry a state from
    one test clip of a video to the next: :meth:`predict_video` calls
    ``predict_clip(clip, generator, state)`` with ``state=None`` for the
    video's first clip and the state the previous call returned otherwise,
    and ``predict_clip`` returns ``(fields, new_state)``. Memory stays
    bounded by the clip length while the result equals one pass over the
    whole video.

    Reusable pieces a subclass switches on by configuration:

    - **Teacher** (``teacher=dict(momentum=..., frozen_parts=...)``): an
      :class:`~mmsmtc.models.utils.EMATeacher` copy of the parts, started
      as the initialised student (:meth:`init_weights`) and updated at the
      start of every training step from the second on -- right after the
      previous optimiser step, before it is used -- so it needs no hook,
      works under DDP and survives resuming. A part whose student did not
      train in the previous step is not updated.
    - **Frozen backbone**: ``freeze_backbone=True`` keeps the backbone fixed
      for good (no gradients, eval mode); ``frozen_backbone_iters=N`` keeps
      it fixed for the first ``N`` training steps (forward without autograd,
      BatchNorm statistics frozen, dropout as in training). ``norm_eval``
      keeps the backbone's BatchNorm layers in eval mode throughout.
    - **Losses** (``losses=[dict(type=...), ...]``): modules with a
      ``loss_name`` (``'loss_*'``), each called on :meth:`loss_inputs`.
    - **View augmentation** (``view_augment``): drawn anew for every
      :meth:`augment` call, so that two branches of one clip see different
      views.

    The training-step counter is a persistent buffer (``num_train_iters``,
    saved with checkpoints) mirrored by a host integer, so decisions per
    step need no device synchronisation. It counts ``loss`` calls: with
    gradient accumulation over ``k`` micro-batches scale
    ``frozen_backbone_iters`` by ``k``.

    Args:
        backbone (dict | nn.Module): Returns an ``(N, C, h, w)`` map or a
            sequence of them; ``backbone(x)[out_index]`` is used.
        neck, head (dict | nn.Module, optional): Built as given.
        losses (Sequence[dict | nn.Module]): The loss modules.
        teacher (dict, optional): ``momentum`` (default 0.999) and
            ``frozen_parts`` of an EMA teacher of the built parts.
        out_index (int): Which backbone output is the feature map.
        freeze_backbone (bool): The backbone never trains.
        frozen_backbone_iters (int): Training steps with a fixed backbone.
        norm_eval (bool): Backbone BatchNorm layers always in eval mode.
        view_augment (dict | nn.Module, optional): Augmentation of
            normalised ``(B, T, 3, H, W)`` clips, training only.
        test_clip_len (int, optional): Frames per clip in ``predict``; None
            runs each video as one clip.
        pad_last_clip (bool): Complete a short last test clip with the
            video's last frames (official SMTC evaluation).
        data_preprocessor (dict | nn.Module, optional): Builds ``inputs``.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    #: Prediction fields holding ``(T, K, h, w)`` per-slot maps, drawn by
    #: visualisation hooks (set in each predicted sample's meta information).
    mask_fields: Tuple[str, ...] = ()
    #: Whether :meth:`predict_clip` takes and returns a state carried
    #: between the consecutive test clips of one video (recurrent models).
    carries_clip_state: bool = False
    #: The attributes holding the network's parts, in order: what an EMA
    #: teacher copies and what a test checkpoint must fill. A subclass with
    #: more parts (VideoSAUR's slot initialiser, processor, decoder) extends
    #: it.
    parts: Tuple[str, ...] = ('backbone', 'neck', 'head')

    def __init__(self,
                 backbone: ModuleOrCfg,
                 neck: Optional[ModuleOrCfg] = None,
                 head: Optional[ModuleOrCfg] = None,
                 losses: Sequence[ModuleOrCfg] = (),
                 teacher: Optional[dict] = None,
                 out_index: int = -1,
                 freeze_backbone: bool = False,
                 frozen_backbone_iters: int = 0,
                 norm_eval: bool = False,
                 view_augment: Optional[ModuleOrCfg] = None,
                 test_clip_len: Optional[int] = None,
                 pad_last_clip: bool = True,
                 data_preprocessor: Optional[ModuleOrCfg] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if test_clip_len is not None and test_clip_len < 1:
            raise ValueError(
                f'test_clip_len must be >= 1 or None, got {test_clip_len}')
        if frozen_backbone_iters < 0:
            raise ValueError('frozen_backbone_iters must be >= 0, got '
                             f'{frozen_backbone_iters}')
        self.backbone = build_module(backbone)
        self.neck = build_module(neck)
        self.head = build_module(head)
        self.losses = nn.ModuleList(
            [build_module(loss) for loss in losses])
        self._check_loss_names()
        self.view_augment = build_module(view_augment)
        self.out_index = out_index
        self.freeze_backbone = freeze_backbone
        self.frozen_backbone_iters = frozen_backbone_iters
        self.norm_eval = norm_eval
        self.test_clip_len = test_clip_len
        self.pad_last_clip = pad_last_clip
        if freeze_backbone:
            self.backbone.requires_grad_(False)
        self.teacher = None
        if teacher is not None:
            self.teacher = EMATeacher(self.student_parts(), **teacher)
        self.register_buffer('num_train_iters',
                             torch.zeros((), dtype=torch.long))
        self._train_iters = 0

    def _check_loss_names(self) -> None:
        names = [getattr(loss, 'loss_name', None) for loss in self.losses]
        for loss, name in zip(self.losses, names):
            if not isinstance(name, str) or not name.startswith('loss_'):
                raise ValueError(
                    f'{type(loss).__name__} needs a loss_name starting with '
                    f"'loss_' (MMEngine sums the 'loss' keys), got {name!r}")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f'losses share the names {repeated}; give each '
                             'a distinct loss_name')

    # ------------------------------------------------------------------
    # parts, teacher, modes
    def student_parts(self) -> Dict[str, nn.Module]:
        """The built parts (:attr:`parts` that are not None), by name."""
        return {
            name: getattr(self, name)
            for name in self.parts if getattr(self, name) is not None
        }

    def branch(self, teacher: bool = False) -> Dict[str, nn.Module]:
        """The student's parts, or the teacher's copies of them."""
        if not teacher:
            return self.student_parts()
        if self.teacher is None:
            raise RuntimeError(f'{type(self).__name__} has no teacher; '
                               'configure teacher=dict(momentum=...)')
        return dict(self.teacher.items())

    def init_weights(self) -> None:
        """Initialise the student, then start the teacher as its copy."""
        super().init_weights()
        if self.teacher is not None:
            self.teacher.copy_from(self.student_parts())

    def train(self, mode: bool = True) -> 'BaseVideoSSL':
        """Switch modes; the teacher and a frozen backbone stay in eval,
        and so do the backbone's BatchNorm layers with ``norm_eval``."""
        super().train(mode)
        self._set_backbone_modes(frozen_now=False)
        return self

    def _set_backbone_modes(self, frozen_now: bool) -> None:
        """The backbone's own mode policy (e.g. a ResNet's frozen stages),
        then eval mode for all of it when it never trains, or for its
        BatchNorm layers with ``norm_eval`` or while it is fixed."""
        self.backbone.train(self.training and not self.freeze_backbone)
        if self.training and (self.norm_eval or frozen_now):
            for module in self.backbone.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()

    def backbone_frozen(self, step: Optional[int] = None) -> bool:
        """Whether the backbone is fixed in training step ``step`` (default:
        the current one)."""
        step = self._train_iters if step is None else step
        return self.freeze_backbone or step < self.frozen_backbone_iters

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Load as usual, then mirror ``num_train_iters`` on the host."""
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._train_iters = int(self.num_train_iters)

    def _start_train_step(self) -> None:
        """Teacher update (from the second step on) and normalisation modes
        of the current step."""
        step = self._train_iters
        if self.teacher is not None and step > 0:
            skip = ('backbone', ) if self.backbone_frozen(step - 1) else ()
            self.teacher.average_from(self.student_parts(), skip=skip)
        self._set_backbone_modes(frozen_now=self.backbone_frozen(step))

    def _finish_train_step(self) -> None:
        self.num_train_iters += 1
        self._train_iters += 1

    # ------------------------------------------------------------------
    # features
    def extract_feat(self,
                     frames: torch.Tensor,
                     backbone: Optional[nn.Module] = None,
                     frozen: bool = False) -> torch.Tensor:
        """``(N, 3, H, W)`` frames -> ``(N, C, h, w)`` backbone features.

        Args:
            frames: Normalised frames.
            backbone: Another backbone (e.g. the teacher's); default the
                student's.
            frozen: Run without autograd (a fixed backbone builds no graph).
        """
        backbone = self.backbone if backbone is None else backbone
        with torch.set_grad_enabled(torch.is_grad_enabled() and not frozen):
            feats = backbone(frames)
        if isinstance(feats, (tuple, list)):
            feats = feats[self.out_index]
        if feats.dim() != 4:
            raise ValueError('the backbone output selected by out_index='
                             f'{self.out_index} must be (N, C, h, w), got '
                             f'{tuple(feats.shape)}')
        return feats

    def augment(self, inputs: torch.Tensor) -> torch.Tensor:
        """``view_augment`` (a fresh draw on every call), if configured."""
        if self.view_augment is None:
            return inputs
        return self.view_augment(inputs)

    # ------------------------------------------------------------------
    # modes
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[VideoDataSample]] = None,
                mode: str = 'tensor',
                **kwargs):
        """Dispatch to :meth:`loss`, :meth:`predict` or :meth:`_forward`.

        Args:
            inputs: ``(B, T, 3, H, W)`` normalised clips.
            data_samples: One per clip, optional.
            mode: ``'loss'``, ``'predict'`` or ``'tensor'``.
            **kwargs: Passed to :meth:`_forward` (``tensor`` mode) or
                :meth:`loss_inputs` (``loss`` mode).
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples, **kwargs)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples, **kwargs)
        raise ValueError(f'Invalid mode {mode!r}: {type(self).__name__} '
                         'supports "loss", "predict" and "tensor"')

    def _forward(self, inputs: torch.Tensor,
                 data_samples: Optional[List[VideoDataSample]] = None,
                 **kwargs) -> Dict[str, torch.Tensor]:
        """Raw outputs of ``(B, T, 3, H, W)`` clips (subclass)."""
        raise NotImplementedError

    def loss_inputs(self, inputs: torch.Tensor,
                    data_samples: Optional[List[VideoDataSample]],
                    **kwargs) -> Tuple:
        """What every loss module is called with (subclass); ``kwargs``
        are those given to ``forward(..., mode='loss')``."""
        raise NotImplementedError

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[List[VideoDataSample]] = None,
             **kwargs) -> Dict[str, torch.Tensor]:
        """One training step's losses, ``{loss_name: value}``; ``kwargs``
        go to :meth:`loss_inputs`."""
        if not len(self.losses):
            raise RuntimeError(f'{type(self).__name__}.loss needs at least '
                               'one module in losses')
        check_video_clips(inputs, type(self).__name__)
        self._start_train_step()
        arguments = self.loss_inputs(inputs, data_samples, **kwargs)
        self._finish_train_step()
        return {loss.loss_name: loss(*arguments) for loss in self.losses}

    def predict_clip(self,
                     clip: torch.Tensor,
                     generator: Optional[torch.Generator] = None
                     ) -> Dict[str, torch.Tensor]:
        """Per-frame predictions of one ``(t, 3, H, W)`` clip (subclass).

        Recurrent models (:attr:`carries_clip_state`) take a third argument,
        ``state`` (None for the video's first clip), and return
        ``(fields, new_state)``.

        Args:
            clip: Normalised frames.
            generator: Source of the test-time random numbers (a per-video
                generator, see :mod:`mmsmtc.models.utils.seeding`); None
                uses the global one.

        Returns:
            dict[str, Tensor]: data-sample fields, each ``(t, ...)``.
        """
        raise NotImplementedError

    def video_fields(self) -> Dict[str, torch.Tensor]:
        """Prediction fields set once per video besides the per-frame ones
        of :meth:`predict_clip` (subclass)."""
        return {}

    @torch.no_grad()
    def predict(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[List[VideoDataSample]] = None
    ) -> List[VideoDataSample]:
        """Predict every ``(T, 3, H, W)`` video of ``inputs`` clip by clip.

        Args:
            inputs: ``(B, T, 3, H, W)`` normalised videos.
            data_samples: One per video; new ones are made when None.

        Returns:
            list[VideoDataSample]: with the fields of :meth:`predict_clip`
            (``T`` first) and :meth:`video_fields`, and the meta information
            ``mask_fields`` (see :attr:`mask_fields`).
        """
        check_video_clips(inputs, type(self).__name__)
        if data_samples is None:
            data_samples = [VideoDataSample() for _ in range(len(inputs))]
        if len(data_samples) != len(inputs):
            raise ValueError(f'got {len(data_samples)} data samples for '
                             f'{len(inputs)} videos')
        for video, sample in zip(inputs, data_samples):
            self.predict_video(len(video), video.__getitem__, sample)
        return data_samples

    @torch.no_grad()
    def predict_video(self,
                      num_frames: int,
                      read_clip,
                      sample: VideoDataSample,
                      generator: Optional[torch.Generator] = None,
                      device: Optional[torch.device] = None
                      ) -> VideoDataSample:
        """Stream one video through :meth:`predict_clip` into ``sample``.

        A recurrent model (:attr:`carries_clip_state`) gets the state its
        previous clip of this video returned (None for the first clip); only
        the last clip can be padded (``pad_last_clip``), and its returned
        state is dropped, so the padding never reaches a real frame.

        Args:
            num_frames: ``T``.
            read_clip: Frame indices -> ``(t, 3, H, W)`` normalised frames
                (e.g. decoded lazily by a test-time segmentor).
            sample: Receives the prediction fields.
            generator: Test-time randomness of this video.
            device: Where the outputs are gathered (None: the model's).
        """
        if self.carries_clip_state:
            state = None

            def run_clip(clip: torch.Tensor) -> Dict[str, torch.Tensor]:
                nonlocal state
                fields, state = self.predict_clip(clip, generator, state)
                return fields
        else:

            def run_clip(clip: torch.Tensor) -> Dict[str, torch.Tensor]:
                return self.predict_clip(clip, generator)

        outputs = stream_clips(num_frames, self.test_clip_len, read_clip,
                               run_clip, self.pad_last_clip, device)
        for name, value in {**outputs, **self.video_fields()}.items():
            sample.set_field(value, name)
        sample.set_metainfo(dict(mask_fields=tuple(self.mask_fields)))
        return sample
