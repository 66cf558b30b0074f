"""Helpers the mmsmtc metrics share to read a data sample and write masks.

A data sample is a dict or a ``VideoDataSample`` (see
``mmsmtc/structures/video_data_sample.py``); arrays may be numpy arrays or
tensors on any device.
"""
from pathlib import Path
from typing import Any, List, Union

import numpy as np
from mmengine.structures import BaseDataElement

from mmsmtc.structures import video_name
from mmsmtc.utils import write_indexed_png
from ..functional.segmentation import select_annotated_frames


def sample_as_dict(sample: Union[dict, BaseDataElement]) -> dict:
    """A data sample as a flat dict (metainfo and data fields together)."""
    if isinstance(sample, BaseDataElement):
        return sample.to_dict()
    if not isinstance(sample, dict):
        raise TypeError('data samples must be dicts or VideoDataSample, got '
                        f'{type(sample).__name__}')
    return sample


def sample_array(sample: dict, key: str, required: bool = True) -> Any:
    """Read ``sample[key]`` as a numpy array (tensors are moved to CPU).

    Args:
        sample: A flat sample dict.
        key: The field, e.g. ``'pred_masks'``.
        required: Raise when the field is missing; otherwise return None.

    Raises:
        KeyError: Naming the video and the field, if a required field is
            missing.
    """
    if key not in sample or sample[key] is None:
        if required:
            raise KeyError(f'{video_name(sample)}: the data sample has no '
                           f'{key!r} (fields: {sorted(sample)})')
        return None
    value = sample[key]
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def frame_names_of(sample: dict, num_frames: int) -> List[str]:
    """The sample's ``frame_names``, or ``00000``, ``00001``, ..."""
    names = sample.get('frame_names')
    if names is None:
        return [f'{index:05d}' for index in range(num_frames)]
    if len(names) != num_frames:
        raise ValueError(f'{video_name(sample)}: {len(names)} frame_names '
                         f'for {num_frames} predicted frames')
    return [str(name) for name in names]


def write_mask_pngs(output_dir: Union[str, Path], sample: dict,
                    pred_masks: np.ndarray) -> None:
    """Write ``(T, H, W)`` ids as ``output_dir/<video>/<frame>.png``.

    The layout and the indexed DAVIS-palette PNGs are those of the official
    DAVIS result folders.
    """
    video_dir = Path(output_dir) / video_name(sample)
    for name, mask in zip(frame_names_of(sample, len(pred_masks)), pred_masks):
        write_indexed_png(video_dir / f'{name}.png', mask)


def annotated_predictions(sample: dict, pred_masks: np.ndarray,
                          gt_masks: np.ndarray) -> np.ndarray:
    """The ``(T_a, H, W)`` predictions of the annotated frames of a sample.

    Uses ``gt_mask_frame_indices`` when present; without it the video must
    be fully annotated (``T == T_a``).
    """
    frame_indices = sample_array(sample,
                                 'gt_mask_frame_indices',
                                 required=False)
    return select_annotated_frames(pred_masks, frame_indices, len(gt_masks),
                                   video_name(sample))
