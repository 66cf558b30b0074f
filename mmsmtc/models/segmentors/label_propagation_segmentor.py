"""Test-time label propagation over whole videos (DAVIS, JHMDB, VIP)."""
from functools import partial
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from torch import nn

from mmsmtc.ops.propagation import (first_frame_labels,
                                    first_frame_labels_nearest,
                                    image_joint_label_maps, joint_label_maps,
                                    joints_to_grid, label_grid_size,
                                    minmax_soft_labels_to_ids,
                                    nearest_ids_to_image, pil_nearest_resize,
                                    read_out_keypoints,
                                    read_out_keypoints_at_image,
                                    soft_labels_to_ids)
from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample, video_name
from .base import BaseVideoSegmentor

#: What the propagated labels are and how they are read out.
LABEL_TYPES = ('instances', 'classes', 'keypoints')
#: Pre- and post-processing of the labels and frames: CRW / SMTC's, or
#: Spa-then-Temp / VFS's (see the class docstring).
PROTOCOLS = ('crw', 'stt')


@MODELS.register_module()
class LabelPropagationSegmentor(BaseVideoSegmentor):
    """Propagate frame-0 labels through each test video.

    Call graph of ``predict`` for one video (``T`` frames of ``H x W``)::

        frames (lazy, decoded frame_batch_size at a time)
          -> data_preprocessor.normalize_frames (model device)
          -> resize: to input_size, or to (H // s * s, W // s * s)
          -> LabelPropagator: backbone(x)[out_index] -> label grid (h, w)
             -> streaming propagation: (K, h, w) soft labels per frame
          -> read-out per frame:
             'instances'/'classes': upsample to (H, W), argmax -> ids
             'keypoints': top-3 weighted joint positions -> (J, 2)
          -> pred_masks (T, H, W) uint8 | pred_keypoints (T, J, 2) float32

    Frame-0 labels: ``'instances'`` (DAVIS-2017 semi-supervised) one channel
    per distinct id of the first annotation; ``'classes'`` (VIP) one channel
    per class ``0..num_classes - 1``; ``'keypoints'`` (JHMDB) background
    plus a Gaussian map per joint of ``gt_keypoints[0]``.

    ``protocol='stt'`` (Spa-then-Temp / VFS ``VanillaTracker``) changes the
    pre- and post-processing around the same propagation engine (whose
    options live in the propagator):

    - frames: uint8 RGB resized with OpenCV INTER_LINEAR to ``input_size``
      (None: kept at their size, no rounding to a multiple) before the data
      preprocessor (``color_space='lab'`` for L*a*b*);
    - id maps (``'instances'``, ``'classes'``): PIL nearest to the input
      size and to the grid, one-hot with ``max id + 1`` channels
      (``num_classes`` unused); read-out per frame: bilinear (torch) to the
      image size, per-channel min-max normalisation, argmax; frame 0's
      output is the given map at the input size, resized back (torch
      nearest);
    - joints (``'keypoints'``): Gaussians of ``keypoint_sigma`` image
      pixels (4) at the original resolution, no background channel, to the
      grid through the input size; read-out: bilinear to the image size,
      ``keypoint_topk`` (5) pixels; frame 0 is read from the input-size
      maps.

    Args:
        propagator (dict | nn.Module): A ``LabelPropagator`` (backbone and
            every propagation setting: topk, radius, temperature,
            n_context, out_index, feature_upsample).
        stride (int): The map scale ``s`` of the label grid (16 for
            ViT-S/16, 8 for its 2x-interpolated variant and ResNet res3).
        label_type (str): One of :data:`LABEL_TYPES`.
        input_size (tuple[int, int], optional): Resize every frame to this
            ``(H, W)`` (JHMDB 320x320, VIP 560x560); None resizes to the
            largest multiple of ``stride`` (DAVIS).
        grid_rounding (str): ``'floor'`` (DAVIS) or ``'ceil'`` (JHMDB).
        num_classes (int): Classes of ``'classes'`` labels (VIP: 20).
        keypoint_topk (int): Cells (pixels for ``'stt'``) averaged per
            joint (CRW 3, Spa-then-Temp 5).
        keypoint_sigma (float): Gaussian width of the ``'stt'`` joint maps
            in image pixels (4).
        protocol (str): One of :data:`PROTOCOLS`.
        frame_batch_size (int): Frames decoded and normalised together.
        checkpoint_prefix (str | Sequence[str]): Where the encoder's weights
            are in a test checkpoint: ``'backbone.'`` for a training
            checkpoint's (SMTC: the student), ``'teacher.backbone.'`` for
            SMTC's EMA teacher, ``'propagator.backbone.'`` for a checkpoint
            of this segmentor. Defaults to ``('propagator.backbone.',
            'backbone.')``.
        test_seed, data_preprocessor, init_cfg: See
            :class:`BaseVideoSegmentor`.
    """

    def __init__(self,
                 propagator: Union[dict, nn.Module],
                 stride: int,
                 label_type: str = 'instances',
                 input_size: Optional[Sequence[int]] = None,
                 grid_rounding: str = 'floor',
                 num_classes: int = 20,
                 keypoint_topk: int = 3,
                 keypoint_sigma: float = 4,
                 protocol: str = 'crw',
                 frame_batch_size: int = 4,
                 checkpoint_prefix: Union[str, Sequence[str]] = (
                     'propagator.backbone.', 'backbone.'),
                 test_seed: int = 0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(checkpoint_prefix, input_size, test_seed,
                         data_preprocessor, init_cfg)
        if label_type not in LABEL_TYPES:
            raise ValueError(
                f'label_type must be one of {LABEL_TYPES}, got {label_type!r}')
        if protocol not in PROTOCOLS:
            raise ValueError(
                f'protocol must be one of {PROTOCOLS}, got {protocol!r}')
        if int(stride) != stride or stride < 1:
            raise ValueError(f'stride must be a positive integer, got '
                             f'{stride!r}')
        if frame_batch_size < 1:
            raise ValueError(
                f'frame_batch_size must be >= 1, got {frame_batch_size}')
        self.propagator = MODELS.build(propagator) if isinstance(
            propagator, dict) else propagator
        self.stride = int(stride)
        self.label_type = label_type
        self.grid_rounding = grid_rounding
        self.num_classes = num_classes
        self.keypoint_topk = keypoint_topk
        self.keypoint_sigma = keypoint_sigma
        self.protocol = protocol
        self.frame_batch_size = frame_batch_size

    def checkpoint_target(self) -> Tuple[nn.Module, str]:
        """The propagator's backbone."""
        backbone = self.propagator.backbone
        return backbone, f'backbone ({type(backbone).__name__})'

    @torch.no_grad()
    def predict(self, inputs: list,
                data_samples: List[VideoDataSample]) -> List[VideoDataSample]:
        """Propagate the labels of every video of the batch.

        Args:
            inputs: ``B`` lazy frame sequences (``(t, H, W, 3)`` uint8 by
                slice).
            data_samples: ``B`` samples with ``gt_masks`` (instances,
                classes) or ``gt_keypoints`` (keypoints) of frame 0.

        Returns:
            list[VideoDataSample]: with ``pred_masks`` ``(T, H, W)`` uint8 or
            ``pred_keypoints`` ``(T, J, 2)`` float32 added.
        """
        for frames, sample in zip(inputs, data_samples):
            self._predict_video(frames, sample)
        return data_samples

    def _predict_video(self, frames, sample: VideoDataSample) -> None:
        if self.protocol == 'stt':
            self._predict_video_stt(frames, sample)
            return
        height, width = frames.shape[1:3]
        input_size = self.frame_size(frames, self.stride, sample)
        grid = label_grid_size(*input_size, self.stride, self.grid_rounding)
        first_labels, values = self._first_labels(sample, (height, width),
                                                  input_size, grid)
        soft_stream = self.propagator.propagate_video(
            self._normalised_frames(frames, input_size), first_labels)
        if self.label_type == 'keypoints':
            sample.pred_keypoints = np.stack([
                read_out_keypoints(soft, (height, width), self.keypoint_topk)
                for soft in soft_stream
            ]).astype(np.float32)
        else:
            sample.pred_masks = np.stack([
                soft_labels_to_ids(soft, values, (height, width))
                for soft in soft_stream
            ]).astype(np.uint8)

    def _predict_video_stt(self, frames, sample: VideoDataSample) -> None:
        """Spa-then-Temp / VFS pre- and post-processing (class docstring)."""
        image_size = tuple(frames.shape[1:3])
        input_size = self.input_size or image_size
        grid = label_grid_size(*input_size, self.stride, self.grid_rounding)
        name = video_name(sample)
        if self.label_type == 'keypoints':
            if 'gt_keypoints' not in sample:
                raise KeyError(f'{name}: keypoint propagation needs '
                               "'gt_keypoints' of frame 0 in the data sample")
            labels, input_maps = image_joint_label_maps(
                np.asarray(sample.gt_keypoints)[0], image_size, input_size,
                grid, self.keypoint_sigma)
            first = read_out_keypoints_at_image(
                torch.from_numpy(input_maps), image_size, self.keypoint_topk)
            read_out = partial(read_out_keypoints_at_image,
                               image_size=image_size,
                               topk=self.keypoint_topk)
        else:
            annotation = self._first_annotation(sample)
            try:
                labels, values = first_frame_labels_nearest(
                    annotation, grid, input_size)
            except ValueError as error:
                raise ValueError(f'{name}: {error}') from error
            first = nearest_ids_to_image(
                pil_nearest_resize(annotation, input_size), image_size)
            read_out = partial(minmax_soft_labels_to_ids, values=values,
                               image_size=image_size)
        soft_stream = self.propagator.propagate_video(
            self._uint8_resized_frames(frames, input_size), labels)
        outputs = [first]
        next(soft_stream)  # frame 0: the given labels
        outputs.extend(read_out(soft) for soft in soft_stream)
        if self.label_type == 'keypoints':
            sample.pred_keypoints = np.stack(outputs).astype(np.float32)
        else:
            sample.pred_masks = np.stack(outputs).astype(np.uint8)

    def _uint8_resized_frames(self, frames, size: Tuple[int, int]
                              ) -> Iterator[torch.Tensor]:
        """Yield ``(3, h, w)`` frames resized as uint8 RGB (OpenCV
        INTER_LINEAR, the official ``Resize``), then normalised."""
        for start in range(0, len(frames), self.frame_batch_size):
            batch = np.asarray(frames[start:start + self.frame_batch_size])
            if tuple(batch.shape[1:3]) != tuple(size):
                batch = np.stack([
                    cv2.resize(frame, (size[1], size[0]),
                               interpolation=cv2.INTER_LINEAR)
                    for frame in batch
                ])
            yield from self.data_preprocessor.normalize_frames(batch)

    def _first_annotation(self, sample: VideoDataSample) -> np.ndarray:
        """Frame 0's ``(H, W)`` id map, checked."""
        name = video_name(sample)
        if 'gt_masks' not in sample or len(sample.gt_masks) == 0:
            raise KeyError(f'{name}: mask propagation needs the frame-0 '
                           "annotation 'gt_masks' in the data sample")
        indices = sample.get('gt_mask_frame_indices')
        if indices is not None and int(np.asarray(indices)[0]) != 0:
            raise ValueError(f'{name}: the first annotated frame is frame '
                             f'{int(np.asarray(indices)[0])}, but propagation '
                             'starts from an annotation of frame 0')
        return np.asarray(sample.gt_masks[0])

    def _normalised_frames(self, frames, size: Tuple[int, int]
                           ) -> Iterator[torch.Tensor]:
        """Yield ``(3, h, w)`` normalised, resized frames (batch decoding)."""
        for start in range(0, len(frames), self.frame_batch_size):
            yield from self.read_frames(
                frames, slice(start, start + self.frame_batch_size), size)

    def _first_labels(
            self, sample: VideoDataSample, image_size: Tuple[int, int],
            input_size: Tuple[int, int],
            grid: Tuple[int, int]) -> Tuple[torch.Tensor, np.ndarray]:
        """``(K, h, w)`` frame-0 labels and the ``(K,)`` id of each channel."""
        name = video_name(sample)
        if self.label_type == 'keypoints':
            if 'gt_keypoints' not in sample:
                raise KeyError(f'{name}: keypoint propagation needs '
                               "'gt_keypoints' of frame 0 in the data sample")
            joints = np.asarray(sample.gt_keypoints)[0]
            joints_grid = joints_to_grid(joints, image_size, self.stride,
                                         input_size)
            labels = joint_label_maps(joints_grid, grid)
            return labels, np.arange(len(labels))
        annotation = self._first_annotation(sample)
        values = range(self.num_classes) \
            if self.label_type == 'classes' else None
        try:
            return first_frame_labels(annotation, grid, values)
        except ValueError as error:
            raise ValueError(f'{name}: {error}') from error
