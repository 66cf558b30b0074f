"""Single-object discovery J for DAVIS-2016, SegTrack-v2 and FBMS-59.

Also holds the small helpers the mmsmtc mask/keypoint metrics share to read
a data sample (a dict or a ``VideoDataSample``) and to write predictions.
"""
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.structures import BaseDataElement

from mmsmtc.registry import METRICS
from mmsmtc.utils import write_indexed_png
from ..functional.segmentation import select_annotated_frames
from ..functional.single_object import (frame_intersections_unions,
                                        frame_jaccard, frame_mean_j,
                                        sequence_mean_j)


def sample_as_dict(sample: Union[dict, BaseDataElement]) -> dict:
    """A data sample as a flat dict (metainfo and data fields together)."""
    if isinstance(sample, BaseDataElement):
        return sample.to_dict()
    if not isinstance(sample, dict):
        raise TypeError('data samples must be dicts or VideoDataSample, got '
                        f'{type(sample).__name__}')
    return sample


def video_name_of(sample: dict) -> str:
    """The sample's ``video_name``, or ``'<unnamed video>'``."""
    return str(sample.get('video_name', '<unnamed video>'))


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
            raise KeyError(f'{video_name_of(sample)}: the data sample has no '
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
        raise ValueError(f'{video_name_of(sample)}: {len(names)} frame_names '
                         f'for {num_frames} predicted frames')
    return [str(name) for name in names]


def write_mask_pngs(output_dir: Union[str, Path], sample: dict,
                    pred_masks: np.ndarray) -> None:
    """Write ``(T, H, W)`` ids as ``output_dir/<video>/<frame>.png``.

    The layout and the indexed DAVIS-palette PNGs are those of the official
    DAVIS result folders.
    """
    video_dir = Path(output_dir) / video_name_of(sample)
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
                                   video_name_of(sample))


@METRICS.register_module()
class SingleObjectMetric(BaseMetric):
    """Foreground J of single-object video discovery.

    All ground-truth objects merge into one foreground (id > 0 except
    ``void_id``), all predicted ids but 0 likewise; see
    :mod:`mmsmtc.evaluation.functional.single_object` for the definition and
    the references. ``process`` keeps only per-frame intersections and
    unions, so gathering across ranks is cheap.

    Reported keys (fractions in ``[0, 1]``):
        - ``J``: mean over videos of the per-video mean J (DAVIS-2016).
        - ``J-frame``: mean over all scored frames (SegTrack-v2, FBMS-59).

    Args:
        void_id: Ground-truth id excluded from scoring, or ``None``.
            DAVIS-2016 masks stored as 0/255 must be read as 0/1 (or use
            ``void_id=None``), or their foreground would be void.
        drop_first_last: Score frames ``[1:-1]`` of each video, as the
            DAVIS-2016 toolkit does; the unsupervised protocol (default)
            scores every annotated frame.
        format_only: Only write the predictions to ``output_dir``.
        output_dir: Where to write ``<video>/<frame>.png`` predictions.
        collect_device, prefix, collect_dir: See ``BaseMetric``;
            ``prefix`` defaults to ``'davis16'``.
    """
    default_prefix = 'davis16'

    def __init__(self,
                 void_id: Optional[int] = 255,
                 drop_first_last: bool = False,
                 format_only: bool = False,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device, prefix, collect_dir)
        if format_only and output_dir is None:
            raise ValueError('format_only=True needs an output_dir')
        self.void_id = void_id
        self.drop_first_last = drop_first_last
        self.format_only = format_only
        self.output_dir = output_dir

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Reduce each video to per-frame intersections and unions."""
        for sample in map(sample_as_dict, data_samples):
            pred_masks = sample_array(sample, 'pred_masks')
            if self.output_dir is not None:
                write_mask_pngs(self.output_dir, sample, pred_masks)
            if self.format_only:
                continue
            gt_masks = sample_array(sample, 'gt_masks')
            pred_masks = annotated_predictions(sample, pred_masks, gt_masks)
            intersections, unions = frame_intersections_unions(
                gt_masks, pred_masks, self.void_id, video_name_of(sample))
            if self.drop_first_last:
                if len(intersections) < 3:
                    raise ValueError(
                        f'{video_name_of(sample)}: drop_first_last needs at '
                        f'least 3 annotated frames, got {len(intersections)}')
                intersections, unions = intersections[1:-1], unions[1:-1]
            self.results.append(
                dict(intersections=intersections, unions=unions))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return ``{'J': ..., 'J-frame': ...}`` ({} when format_only)."""
        if self.format_only:
            return {}
        frame_j = [
            frame_jaccard(result['intersections'], result['unions'])
            for result in results
        ]
        return {
            'J': sequence_mean_j(frame_j),
            'J-frame': frame_mean_j(frame_j)
        }
