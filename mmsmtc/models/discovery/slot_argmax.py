"""Slot masks -> one id per pixel: the arg-max slot (VideoSAUR's scoring)."""
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from mmsmtc.registry import TASK_UTILS
from mmsmtc.structures import VideoDataSample, video_name
from .inputs import SLOT_FIELDS, ArrayLike, check_discovery_inputs


@TASK_UTILS.register_module()
class SlotArgmaxPostProcessor:
    """Each pixel takes the id of its most probable slot, as VideoSAUR
    scores FG-ARI and mBO.

    VideoSAUR (``models.py`` ``process_masks``, ``modules/utils.py``
    ``Resizer`` and ``soft_to_hard_mask``) upsamples the decoder's soft
    masks from the patch grid straight to the ground-truth size with
    ``F.interpolate(mode='bilinear', align_corners=False)`` (no
    anti-aliasing) and takes the arg-max over slots (the first slot on
    ties). The id of a pixel is its slot index ``0..K-1``: slots are
    recurrent, so an index is one object over the whole video.

    Reads the discovery contract's ``pred_slot_masks`` ``(T, K, h, w)``;
    the other contract fields are not used.

    Args:
        output_size (tuple[int, int], optional): ``(H, W)`` of the id maps
            (VideoSAUR: ``(224, 224)``, the ground-truth size); None uses
            the sample's ``ori_shape``.
        frame_batch_size (int): Frames upsampled at once (memory bound).
    """

    def __init__(self,
                 output_size: Optional[Sequence[int]] = None,
                 frame_batch_size: int = 8) -> None:
        if output_size is not None and (len(output_size) != 2
                                        or min(output_size) < 1):
            raise ValueError('output_size must be (H, W) of positive ints or '
                             f'None, got {output_size!r}')
        if frame_batch_size < 1:
            raise ValueError(
                f'frame_batch_size must be >= 1, got {frame_batch_size}')
        self.output_size = None if output_size is None else tuple(
            int(size) for size in output_size)
        self.frame_batch_size = int(frame_batch_size)

    def __call__(self, masks: ArrayLike,
                 output_size: Sequence[int]) -> torch.Tensor:
        """Id maps of one video.

        Args:
            masks: ``(T, K, h, w)`` soft masks, ``K <= 256``.
            output_size: ``(H, W)``.

        Returns:
            torch.Tensor: ``(T, H, W)`` uint8 slot ids, on the masks'
            device.
        """
        inputs = check_discovery_inputs(masks, output_size)
        if inputs.masks.shape[1] > 256:
            raise ValueError(f'{inputs.masks.shape[1]} slots do not fit '
                             'uint8 ids')
        ids = [
            F.interpolate(
                frames, size=inputs.frame_size, mode='bilinear',
                align_corners=False).argmax(dim=1).to(torch.uint8)
            for frames in inputs.masks.split(self.frame_batch_size)
        ]
        return torch.cat(ids)

    def process(self, data_sample: VideoDataSample) -> VideoDataSample:
        """Write ``pred_masks`` (np.ndarray ``(T, H, W)`` uint8) from the
        sample's ``pred_slot_masks``.

        Raises:
            KeyError: If ``pred_slot_masks`` is missing, or ``ori_shape``
                when ``output_size`` is None.
            ValueError: Naming the video, on bad masks.
        """
        name = video_name(data_sample)
        if SLOT_FIELDS[0] not in data_sample:
            raise KeyError(f'{name}: the data sample has no '
                           f"'{SLOT_FIELDS[0]}' (run the model in predict "
                           'mode first)')
        size = self.output_size
        if size is None:
            if 'ori_shape' not in data_sample.metainfo:
                raise KeyError(f"{name}: the data sample has no 'ori_shape' "
                               'and the post-processor no output_size')
            size = data_sample.metainfo['ori_shape']
        try:
            ids = self(data_sample.get(SLOT_FIELDS[0]), size)
        except (RuntimeError, ValueError) as error:
            raise ValueError(f'{name}: {error}') from error
        data_sample.pred_masks = np.ascontiguousarray(ids.cpu().numpy())
        return data_sample

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(output_size={self.output_size}, '
                f'frame_batch_size={self.frame_batch_size})')
