"""Test-time object discovery with SMTC (DAVIS-17 unsupervised, single
object on DAVIS-16, SegTrack-v2 and FBMS-59)."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from torch import nn

from mmsmtc.apis.propagation import resize_frames
from mmsmtc.models.algorithms.smtc import BRANCH_PARTS, clip_frame_indices
from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from .base import PredictOnlySegmentor
from .checkpoint_fit import load_strict, read_state_dict, select_prefix
from .label_propagation_segmentor import video_name

#: Per-frame SMTC outputs gathered over a video (all with T first); the
#: embeddings feed the discovery's track linking when SMTC provides them.
PREDICTION_FIELDS = ('pred_semantic_logits', 'pred_instance_masks',
                     'pred_instance_scores', 'pred_instance_embeddings')


@MODELS.register_module()
class ObjectDiscoverySegmentor(PredictOnlySegmentor):
    """SMTC slots -> object ids (or one foreground) for each test video.

    Call graph of ``predict`` for one video (``T`` frames of ``H x W``)::

        frames (lazy) -> clips of smtc.test_clip_len frames (the official
                         split: a short last clip is padded with the
                         video's last frames, see clip_frame_indices)
          -> data_preprocessor.normalize_frames (model device)
          -> resize to input_size, or to multiples of size_multiple
          -> SMTC.predict per clip: semantic logits (t, S, h, w),
             instance masks (t, S*P, h, w), scores (t, S*P),
             instance embeddings (t, S*P, D)
          -> concatenated over the video's own frames (CPU)
          -> post_processor.process -> pred_masks (T, H, W) uint8
             (ObjectDiscoveryPostProcessor: ids 1..20;
              SingleObjectPostProcessor: 0/1 foreground)

    Only one clip of frames is decoded at a time; the slot outputs live at
    the feature grid and are small.

    Args:
        smtc (dict | nn.Module): The ``SMTC`` model (its own
            ``data_preprocessor`` is unused).
        post_processor (dict): ``ObjectDiscoveryPostProcessor`` or
            ``SingleObjectPostProcessor`` config.
        input_size (tuple[int, int], optional): Resize frames to this
            ``(H, W)``; None keeps the size, rounded down to a multiple of
            ``size_multiple``.
        size_multiple (int): The backbone's patch size or stride.
        checkpoint_branch (str): Test the ``'student'`` or the EMA
            ``'teacher'`` of a training checkpoint.
        data_preprocessor (dict, optional): A ``VideoDataPreprocessor``.
    """

    def __init__(self,
                 smtc: Union[dict, nn.Module],
                 post_processor: dict,
                 input_size: Optional[Sequence[int]] = None,
                 size_multiple: int = 16,
                 checkpoint_branch: str = 'student',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(checkpoint_branch, data_preprocessor, init_cfg)
        self.smtc = MODELS.build(smtc) if isinstance(smtc, dict) else smtc
        self.post_processor = MODELS.build(post_processor) if isinstance(
            post_processor, dict) else post_processor
        self.input_size = None if input_size is None else tuple(input_size)
        self.size_multiple = int(size_multiple)

    def load_test_checkpoint(self, path: str) -> None:
        """Load an mmsmtc SMTC checkpoint (or one of this segmentor).

        With ``checkpoint_branch='teacher'`` the EMA teacher's weights are
        copied into the student, which ``predict`` runs.

        Raises:
            CheckpointError: If it does not fit this config's SMTC model
                (names the mismatching tensors).
        """
        state = read_state_dict(path)
        state = select_prefix(state, 'smtc.') or state
        load_strict(self.smtc, state, path,
                    f'SMTC model ({type(self.smtc.backbone).__name__} '
                    'backbone)')
        if self.checkpoint_branch == 'teacher':
            for part in BRANCH_PARTS:
                getattr(self.smtc, part).load_state_dict(
                    self.smtc.teacher[part].state_dict())

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
            the SMTC outputs they come from (:data:`PREDICTION_FIELDS`, at
            the feature grid, on the CPU) for visualisation hooks and
            ``--dump``.
        """
        for frames, sample in zip(inputs, data_samples):
            outputs = self._slot_outputs(frames, sample)
            for field, value in outputs.items():
                sample.set_field(value, field)
            self.post_processor.process(sample)
        return data_samples

    def _slot_outputs(self, frames,
                      sample: VideoDataSample) -> Dict[str, torch.Tensor]:
        """SMTC outputs of the ``T`` frames, clip by clip, on the CPU.

        Returns:
            dict[str, Tensor]: the :data:`PREDICTION_FIELDS` that SMTC
            ``predict`` fills, each with the ``T`` frames first.
        """
        height, width = frames.shape[1:3]
        size = self.input_size or (height // self.size_multiple *
                                   self.size_multiple, width //
                                   self.size_multiple * self.size_multiple)
        if min(size) < self.size_multiple:
            raise ValueError(f'{video_name(sample)}: frames of '
                             f'{height}x{width} are smaller than '
                             f'size_multiple {self.size_multiple}')
        num_frames = len(frames)
        clip_len = self.smtc.test_clip_len or num_frames
        outputs = {field: [] for field in PREDICTION_FIELDS}
        for indices in clip_frame_indices(num_frames, clip_len):
            own = min(clip_len, num_frames - indices[0])
            clip = self.data_preprocessor.normalize_frames(
                frames[indices[0]:indices[0] + own])
            if own < len(indices):
                padding = self.data_preprocessor.normalize_frames(
                    frames[indices[own]:indices[-1] + 1])
                clip = torch.cat([clip, padding])
            if tuple(clip.shape[-2:]) != tuple(size):
                clip = resize_frames(clip, size)
            (result, ) = self.smtc.predict(clip[None], [VideoDataSample()])
            for field in PREDICTION_FIELDS:
                if field in result:
                    outputs[field].append(result.get(field)[:own].cpu())
        return {
            field: torch.cat(chunks)
            for field, chunks in outputs.items() if chunks
        }
