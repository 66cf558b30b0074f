"""Single-object discovery J (DAVIS-2016, SegTrack-v2, FBMS-59).

Every object is merged into one foreground: a ground-truth pixel is
foreground when its id is above 0 and not the void id (255), a predicted
pixel when its id is not 0. Void pixels are removed from both masks. The
per-frame J is the IoU of the two foregrounds, 1 when both are empty (the
DAVIS ``db_eval_iou`` convention).

Two reductions are reported, as in the unsupervised single-object
literature (motion grouping, OCLR, SMTC):

- :func:`sequence_mean_j` -- mean over sequences of the per-sequence mean J:
  the DAVIS-2016 number. The DAVIS-2016 toolkit scores frames ``[1:-1]``
  (first and last dropped); the motion-segmentation protocol scores every
  annotated frame. mmsmtc scores every annotated frame by default and
  offers the toolkit's choice as ``drop_first_last`` in
  :class:`~mmsmtc.evaluation.metrics.SingleObjectMetric`.
- :func:`frame_mean_j` -- the mean over all annotated frames of all
  sequences: the SegTrack-v2 and FBMS-59 number. Motion grouping
  (charigyang/motiongrouping ``src/eval.py``) reports this frame mean for
  DAVIS-2016 too, scoring every frame (its IoU has a ``1e-12`` epsilon, so
  a frame with both masks empty scores 0 there; DAVIS-2016 has an object in
  every frame).
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from .segmentation import check_id_maps, check_same_frames


def frame_intersections_unions(
        gt_masks: np.ndarray,
        pred_masks: np.ndarray,
        void_id: Optional[int] = 255,
        video_name: str = 'video') -> Tuple[np.ndarray, np.ndarray]:
    """Per-frame foreground intersection and union of one video.

    Args:
        gt_masks: ``(T, H, W)`` integer ground-truth ids.
        pred_masks: ``(T, H, W)`` integer predicted ids of the same frames.
        void_id: Ground-truth id excluded from scoring, or ``None``.
        video_name: For error messages.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(T,)`` int64 intersections and
        ``(T,)`` int64 unions, in pixels.

    Raises:
        ValueError: If either input is not a non-empty ``(T, H, W)`` integer
            array, or their shapes differ.
    """
    gt_masks = check_id_maps(gt_masks, f'{video_name}: gt_masks')
    pred_masks = check_id_maps(pred_masks, f'{video_name}: pred_masks')
    check_same_frames(gt_masks, pred_masks, video_name)
    intersections = np.zeros(len(gt_masks), dtype=np.int64)
    unions = np.zeros(len(gt_masks), dtype=np.int64)
    for frame, (gt, pred) in enumerate(zip(gt_masks, pred_masks)):
        gt_foreground = gt > 0
        pred_foreground = pred != 0
        if void_id is not None:
            scored = gt != void_id
            gt_foreground &= scored
            pred_foreground &= scored
        intersections[frame] = np.count_nonzero(gt_foreground
                                                & pred_foreground)
        unions[frame] = np.count_nonzero(gt_foreground | pred_foreground)
    return intersections, unions


def frame_jaccard(intersections: np.ndarray, unions: np.ndarray) -> np.ndarray:
    """Per-frame J from ``(T,)`` intersections and unions.

    Returns:
        np.ndarray: ``(T,)`` float64 IoU, 1 where the union is empty.
    """
    intersections = np.asarray(intersections, dtype=np.float64)
    unions = np.asarray(unions, dtype=np.float64)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(unions > 0, intersections / unions, 1.0)


def _check_videos(frame_j_per_video: Sequence[np.ndarray]) -> None:
    if len(frame_j_per_video) == 0:
        raise ValueError('single-object J: no video to average')
    for index, frame_j in enumerate(frame_j_per_video):
        if len(frame_j) == 0:
            raise ValueError(f'single-object J: video {index} has no scored '
                             'frame')


def sequence_mean_j(frame_j_per_video: Sequence[np.ndarray]) -> float:
    """Mean over videos of each video's mean per-frame J (DAVIS-2016).

    Args:
        frame_j_per_video: One ``(T_i,)`` array of per-frame J per video.

    Raises:
        ValueError: If there is no video or a video has no frame.
    """
    _check_videos(frame_j_per_video)
    return float(np.mean([np.mean(frame_j) for frame_j in frame_j_per_video]))


def frame_mean_j(frame_j_per_video: Sequence[np.ndarray]) -> float:
    """Mean per-frame J over all frames of all videos (SegTrack-v2, FBMS-59).

    Args:
        frame_j_per_video: One ``(T_i,)`` array of per-frame J per video.

    Raises:
        ValueError: If there is no video or a video has no frame.
    """
    _check_videos(frame_j_per_video)
    return float(np.mean(np.concatenate(frame_j_per_video)))
