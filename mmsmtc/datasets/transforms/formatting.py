"""Packing transforms: results dict -> ``inputs`` + ``VideoDataSample``."""
from typing import Dict, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmsmtc.registry import TRANSFORMS
from mmsmtc.structures.video_data_sample import VideoDataSample

CLIP_META_KEYS = ('video_name', 'frame_names', 'frame_paths', 'frame_indices',
                  'ori_shape', 'img_shape', 'crop_bbox', 'flip')
VIDEO_META_KEYS = ('video_name', 'frame_names', 'frame_paths', 'ori_shape',
                   'num_frames', 'num_objects', 'object_ids')
GT_KEYS = ('gt_masks', 'gt_mask_frame_indices', 'gt_keypoints')


def _metainfo(results: Dict, keys: Sequence[str]) -> Dict:
    return {key: results[key] for key in keys if key in results}


@TRANSFORMS.register_module()
class PackClipInputs(BaseTransform):
    """Pack a training clip.

    Required Keys:
        - imgs (list[np.ndarray]): ``T`` ``(H, W, 3)`` uint8 RGB frames.

    Optional Keys:
        ``meta_keys`` found in the results go to the sample's metainfo.

    Added Keys:
        - inputs (torch.Tensor): ``(T, 3, H, W)`` uint8, RGB.
        - data_samples (VideoDataSample): metainfo only, plus
          ``num_frames``.

    Args:
        meta_keys (Sequence[str]): Keys copied into the metainfo.
    """

    def __init__(self, meta_keys: Sequence[str] = CLIP_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        clip = np.stack(results['imgs'])
        inputs = torch.from_numpy(np.ascontiguousarray(
            clip.transpose(0, 3, 1, 2)))
        metainfo = _metainfo(results, self.meta_keys)
        metainfo['num_frames'] = clip.shape[0]
        return dict(inputs=inputs,
                    data_samples=VideoDataSample(metainfo=metainfo))

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'


@TRANSFORMS.register_module()
class PackVideoInputs(BaseTransform):
    """Pack a whole test video without decoding it.

    Required Keys:
        - frames (LazyFrameSequence): the ``T`` frames.

    Optional Keys:
        - gt_masks, gt_mask_frame_indices, gt_keypoints: ground truth,
          copied to the sample (``gt_masks`` stays a lazy
          :class:`LazyMaskSequence`: index it or ``np.asarray`` it).
        - ``meta_keys`` found in the results go to the metainfo.

    Added Keys:
        - inputs (LazyFrameSequence): stream it frame by frame, or take
          ``frames[a:b]`` chunks, ``(t, H, W, 3)`` uint8 RGB; normalise with
          :meth:`VideoDataPreprocessor.normalize_frames`.
        - data_samples (VideoDataSample)

    Args:
        meta_keys (Sequence[str]): Keys copied into the metainfo.
    """

    def __init__(self, meta_keys: Sequence[str] = VIDEO_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        sample = VideoDataSample(
            metainfo=_metainfo(results, self.meta_keys))
        for key in GT_KEYS:
            if key in results:
                sample.set_field(results[key], key)
        return dict(inputs=results['frames'], data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
