"""Test-time object discovery (DAVIS-17 unsupervised, single object on
DAVIS-16, SegTrack-v2 and FBMS-59) with any model of the discovery
contract."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from mmsmtc.registry import MODELS, TASK_UTILS
from mmsmtc.structures import VideoDataSample
from .base import BaseVideoSegmentor


@MODELS.register_module()
class ObjectDiscoverySegmentor(BaseVideoSegmentor):
    """Per-frame slot masks of a video model -> object ids for each video.

    Call graph of ``predict`` for one video (``T`` frames of ``H x W``)::

        frames (lazy) -> clips of model.test_clip_len frames (a short last
                         clip padded with the video's last frames when
                         model.pad_last_clip, the official SMTC split)
          -> data_preprocessor.normalize_frames (model device)
          -> resize to input_size, or to multiples of size_multiple
          -> model.predict_clip(clip, per-video generator): the discovery
             contract's fields (mmsmtc.models.discovery.inputs), e.g.
             pred_slot_masks (t, K, h, w), pred_slot_scores (t, K), ...;
             a recurrent model (VideoSAUR) also gets the state its
             previous clip returned (BaseVideoSSL.predict_video)
          -> concatenated over the video's own frames (CPU)
          -> post_processor.process -> pred_masks (T, H, W) uint8
             (ObjectDiscoveryPostProcessor: ids 1..20;
              SingleObjectPostProcessor: 0/1 foreground)

    The model is any :class:`~mmsmtc.models.algorithms.BaseVideoSSL` whose
    ``predict_clip`` gives slot masks (SMTC's instance slots, slots,
    clusters). Only one clip of frames is decoded at a time; the slot
    outputs live at the feature grid and are small. Test-time randomness
    (SMTC's instance noise) comes from a generator seeded by ``(test_seed,
    video name)``.

    Args:
        model (dict | nn.Module): The video model (its own
            ``data_preprocessor`` is unused).
        post_processor (dict): ``ObjectDiscoveryPostProcessor`` or
            ``SingleObjectPostProcessor`` config (``TASK_UTILS``).
        size_multiple (int): The model's patch size or stride.
        checkpoint_prefix (str | Sequence[str]): Where the model's weights
            are in a test checkpoint: ``''`` for a training checkpoint of the
            model itself, ``'teacher.'`` for SMTC's EMA teacher, ``'model.'``
            for a checkpoint of this segmentor. Defaults to
            ``('model.', '')``.
        input_size, test_seed, data_preprocessor, init_cfg: See
            :class:`BaseVideoSegmentor`.
    """

    def __init__(self,
                 model: Union[dict, nn.Module],
                 post_processor: Union[dict, object],
                 size_multiple: int = 16,
                 checkpoint_prefix: Union[str, Sequence[str]] = ('model.', ''),
                 input_size: Optional[Sequence[int]] = None,
                 test_seed: int = 0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(checkpoint_prefix, input_size, test_seed,
                         data_preprocessor, init_cfg)
        self.model = MODELS.build(model) if isinstance(model, dict) \
            else model
        self.post_processor = TASK_UTILS.build(post_processor) \
            if isinstance(post_processor, dict) else post_processor
        self.size_multiple = int(size_multiple)

    def checkpoint_target(self) -> Tuple[nn.Module, str]:
        """The parts of the model that predict (backbone, neck, head)."""
        parts = self.model.student_parts()
        return nn.ModuleDict(parts), (
            f'{type(self.model).__name__} model ('
            f'{type(self.model.backbone).__name__} backbone)')

    @torch.no_grad()
    def predict(self, inputs: list,
                data_samples: List[VideoDataSample]) -> List[VideoDataSample]:
        """Discover the objects of every video of the batch.

        Args:
            inputs: ``B`` lazy frame sequences.
            data_samples: ``B`` samples (``ori_shape`` is the output size).

        Returns:
            list[VideoDataSample]: with ``pred_masks`` ``(T, H, W)`` uint8
            (and, for multi-object discovery, ``pred_object_scores``), and
            the model's slot outputs they come from (at the feature grid, on
            the CPU) for visualisation hooks and ``--dump``.
        """
        for frames, sample in zip(inputs, data_samples):
            size = self.frame_size(frames, self.size_multiple, sample)
            self.model.predict_video(
                len(frames), lambda indices: self.read_frames(
                    frames, indices, size), sample,
                self.video_generator(sample), torch.device('cpu'))
            self.post_processor.process(sample)
        return data_samples
