"""DAVIS-2017 J&F (semi-supervised or unsupervised) as an MMEngine metric."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from mmsmtc.registry import METRICS
from mmsmtc.structures import video_name
from ..functional.davis import (BBA_AUTHORS_MAX_PROPOSALS, MAX_PROPOSALS,
                                evaluate_sequence,
                                evaluate_unsupervised_sequence_per_frame,
                                global_statistics, num_gt_objects,
                                sequence_statistics)
from .base import PredictionWritingMetric
from .sample_utils import annotated_predictions, sample_array, sample_as_dict

TASKS = ('semi-supervised', 'unsupervised')
#: ``'official'``: davis2017-evaluation. ``'bba-authors'``: the modified
#: unsupervised evaluator of the Betrayed-by-Attention repository, NOT the
#: official protocol (see :class:`DAVISMetric`).
PROTOCOLS = ('official', 'bba-authors')


def restore_withheld_last_frame(sample: dict,
                                pred_masks: np.ndarray) -> np.ndarray:
    """Append a copy of the last prediction for the withheld last frame.

    The Betrayed-by-Attention authors' evaluation never shows a video's last
    frame to the model (their loader reads frames ``0..T-2``) and scores
    frame ``T-1`` with a copy of the prediction of frame ``T-2``
    (``results.py: load_attn``). The model input must therefore lack the
    last frame (``WithholdLastFrame`` in the test pipeline) while the
    ground truth covers every frame.

    Args:
        sample: The data sample: ``frame_names`` (or ``gt_masks``) of all
            ``T`` frames, every frame annotated.
        pred_masks: ``(T - 1, H, W)`` predictions.

    Returns:
        np.ndarray: ``(T, H, W)``.

    Raises:
        ValueError: If the prediction does not lack exactly the last of the
            annotated frames, or not every frame is annotated.
    """
    name = video_name(sample)
    if sample.get('frame_names') is not None:
        num_frames = len(sample['frame_names'])
    elif sample.get('gt_masks') is not None:
        num_frames = len(sample['gt_masks'])
    else:
        raise KeyError(f'{name}: the data sample has neither frame_names '
                       'nor gt_masks to count the frames')
    indices = sample.get('gt_mask_frame_indices')
    if indices is not None and not np.array_equal(
            np.asarray(indices).reshape(-1), np.arange(num_frames)):
        raise ValueError(f"{name}: protocol='bba-authors' needs every frame "
                         'annotated (DAVIS-2017)')
    if len(pred_masks) != num_frames - 1 or num_frames < 2:
        raise ValueError(
            f"{name}: protocol='bba-authors' scores {num_frames} frames from "
            f'predictions of the first {num_frames - 1} (the last frame is '
            f'withheld from the model), got {len(pred_masks)} predicted '
            'frames; put WithholdLastFrame before LoadVideoFrames in the '
            'test pipeline')
    return np.concatenate([pred_masks, pred_masks[-1:]])


def _gt_frames(sample: dict) -> List[np.ndarray]:
    """``gt_masks`` of a sample as ``T_a`` ``(H, W)`` uint8 arrays.

    Accepts a ``(T_a, H, W)`` array or tensor or any sequence of ``(H, W)``
    ones.

    Raises:
        KeyError: If the sample has no ``gt_masks``.
        ValueError: If there are no frames or a frame is not 2-D.
    """
    name = video_name(sample)
    if sample.get('gt_masks') is None:
        raise KeyError(f'{name}: the data sample has no ground truth '
                       f"'gt_masks' (fields: {sorted(sample)})")
    frames = []
    for index, frame in enumerate(sample['gt_masks']):
        if hasattr(frame, 'detach'):
            frame = frame.detach().cpu().numpy()
        frame = np.asarray(frame)
        if frame.ndim != 2:
            raise ValueError(f'{name}: gt_masks frame {index} has shape '
                             f'{frame.shape}, expected (H, W) ids')
        frames.append(frame.astype(np.uint8, copy=False))
    if not frames:
        raise ValueError(f'{name}: gt_masks holds no frames')
    return frames


@METRICS.register_module()
class DAVISMetric(PredictionWritingMetric):
    """DAVIS-2017 region (J) and boundary (F) measures, official protocol.

    ``process`` evaluates each video at once (see
    :mod:`mmsmtc.evaluation.functional.davis`) and keeps only the six
    statistics of each object row, so gathering across ranks is cheap.
    Semi-supervised scoring drops the first and last annotated frames; the
    number of objects is the highest id of the first annotated frame.

    Reported keys (fractions): ``J&F-Mean``, ``J-Mean``, ``J-Recall``,
    ``J-Decay``, ``F-Mean``, ``F-Recall``, ``F-Decay``, averaged over objects
    in video-name order (the official order for DAVIS lists).

    ``protocol='bba-authors'`` (unsupervised only) is the modified evaluator
    of the Betrayed-by-Attention repository, which the authors' DAVIS-2017
    numbers come from; it is **not** the official protocol and scores
    higher: up to 300 proposals (mmsmtc's uint8 id maps: 255), one
    Hungarian assignment per frame on ``J_t + F_t`` instead of one per
    sequence on ``(mean J + mean F) / 2``
    (:func:`evaluate_unsupervised_sequence_per_frame`), and the last frame
    scored with a copy of the second-last prediction
    (:func:`restore_withheld_last_frame`).

    Args:
        task: ``'semi-supervised'`` or ``'unsupervised'``.
        protocol: ``'official'`` (default) or ``'bba-authors'``.
        format_only: Only write the predictions to ``output_dir``.
        output_dir: Where to write ``<video>/<frame>.png`` indexed PNGs
            with the DAVIS palette (the official result layout).
        collect_device, prefix, collect_dir: See ``BaseMetric``; ``prefix``
            defaults to ``'davis'``.
    """
    default_prefix = 'davis'

    def __init__(self,
                 task: str = 'semi-supervised',
                 protocol: str = 'official',
                 format_only: bool = False,
                 output_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(format_only, output_dir, collect_device, prefix,
                         collect_dir)
        if task not in TASKS:
            raise ValueError(f'task must be one of {TASKS}, got {task!r}')
        if protocol not in PROTOCOLS:
            raise ValueError(f'protocol must be one of {PROTOCOLS}, got '
                             f'{protocol!r}')
        if protocol == 'bba-authors' and task != 'unsupervised':
            raise ValueError("protocol='bba-authors' is an unsupervised "
                             f'evaluation, got task={task!r}')
        self.task = task
        self.protocol = protocol

    def _evaluate_video(self, sample: dict,
                        pred_masks: np.ndarray) -> Dict[str, dict]:
        """Per-object statistics ``{'<video>_<k>': {...}}`` of one video."""
        name = video_name(sample)
        gt_masks = _gt_frames(sample)
        pred_masks = annotated_predictions(sample, pred_masks, gt_masks)
        num_objects = num_gt_objects(gt_masks[0])
        if self.task == 'semi-supervised':
            if len(gt_masks) < 3:
                raise ValueError(f'{name}: semi-supervised evaluation drops '
                                 'the first and last annotated frames and '
                                 f'needs at least 3, got {len(gt_masks)}')
            gt_masks, pred_masks = gt_masks[1:-1], pred_masks[1:-1]
            limit, what = num_objects, 'ground-truth objects'
        elif self.protocol == 'bba-authors':
            limit, what = BBA_AUTHORS_MAX_PROPOSALS, 'proposals allowed'
        else:
            limit, what = MAX_PROPOSALS, 'proposals allowed'
        highest = int(pred_masks.max())
        if highest > limit:
            raise ValueError(f'{name}: predicted id {highest} exceeds the '
                             f'{limit} {what}')
        try:
            if self.protocol == 'bba-authors':
                return sequence_statistics(
                    name,
                    evaluate_unsupervised_sequence_per_frame(
                        gt_masks, pred_masks, num_objects))
            return evaluate_sequence(self.task, name, gt_masks, pred_masks,
                                     num_objects)
        except ValueError as error:
            raise ValueError(f'{name}: {error}') from error

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Reduce each video to the statistics of its object rows."""
        for sample in map(sample_as_dict, data_samples):
            pred_masks = sample_array(sample, 'pred_masks')
            if self.protocol == 'bba-authors':
                pred_masks = restore_withheld_last_frame(sample, pred_masks)
            if not self.write_masks(sample, pred_masks):
                continue
            self.results.append(
                dict(video_name=video_name(sample),
                     per_object=self._evaluate_video(sample, pred_masks)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return the global numbers ({} when ``format_only``)."""
        if self.format_only:
            return {}
        per_object = {}
        for result in sorted(results, key=lambda item: item['video_name']):
            per_object.update(result['per_object'])
        return global_statistics(per_object)
