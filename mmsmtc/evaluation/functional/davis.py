"""Exact DAVIS-2017 region similarity, statistics and sequence evaluation.

Pure numpy re-implementation of the official ``davis2017-evaluation`` tool
(``davis2017/metrics.py``, ``utils.db_statistics`` and
``DAVISEvaluation._evaluate_*``), giving the same float64 numbers. The
rules it encodes (see also the project's DAVIS protocol notes):

- the number of ground-truth objects is the highest id of the first
  ground-truth frame (255 counts as 0); higher ids later are background;
- semi-supervised: frames given here are the inner frames (the caller drops
  the first and last), no void, predictions zero-padded, ids above the object
  count are an error;
- unsupervised: all frames, void (255) pixels excluded, at most 20
  proposals, Hungarian matching on the (mean J + mean F) / 2 matrix; row
  ``k`` of the result is the ``k``-th matched pair in ascending proposal id.

Unlike the per-pair official code, every frame is processed once: J of all
pairs comes from one joint histogram of the two id maps and F from
boundaries extracted and dilated once per object
(:func:`~mmsmtc.evaluation.functional.boundary.pairwise_boundary_f`).
"""
import warnings
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from .boundary import DEFAULT_BOUND_TH, nonzero_box, pairwise_boundary_f

#: ``T`` id maps of one size: a ``(T, H, W)`` array or ``T`` ``(H, W)`` arrays.
MaskFrames = Union[np.ndarray, Sequence[np.ndarray]]

#: Id of void pixels in DAVIS annotations.
VOID_ID = 255
#: Most proposals the official unsupervised evaluation accepts per sequence.
MAX_PROPOSALS = 20
#: Most proposals the Betrayed-by-Attention authors' modified evaluator
#: accepts (``davis2017/evaluation.py`` of shvdiwnkozbw/SSL-UVOS).
BBA_AUTHORS_MAX_PROPOSALS = 300
#: Highest id of mmsmtc's uint8 id maps.
MAX_UINT8_ID = 255
#: Keys of the statistics of one object.
OBJECT_METRIC_KEYS = ('J-Mean', 'J-Recall', 'J-Decay', 'F-Mean', 'F-Recall',
                      'F-Decay')
#: Keys of the global results, in the official column order.
GLOBAL_METRIC_KEYS = ('J&F-Mean', ) + OBJECT_METRIC_KEYS


def region_similarity(gt_mask: np.ndarray,
                      pred_mask: np.ndarray,
                      void_mask: Optional[np.ndarray] = None):
    """Jaccard index (J) of binary masks, ignoring void pixels.

    The single-pair reference definition (official ``db_eval_iou``).

    Args:
        gt_mask: ``(..., H, W)`` binary ground truth.
        pred_mask: ``(..., H, W)`` binary prediction, same shape.
        void_mask: Optional ``(..., H, W)`` binary mask of ignored pixels.

    Returns:
        float or np.ndarray: J of shape ``(...)``; 1 where the union is
        empty.
    """
    if gt_mask.shape != pred_mask.shape:
        raise ValueError(f'region_similarity: ground truth {gt_mask.shape} '
                         f'and prediction {pred_mask.shape} differ in shape')
    keep = True if void_mask is None else ~void_mask.astype(bool)
    gt_mask = gt_mask.astype(bool)
    pred_mask = pred_mask.astype(bool)
    intersection = np.sum(gt_mask & pred_mask & keep, axis=(-2, -1))
    union = np.sum((gt_mask | pred_mask) & keep, axis=(-2, -1))
    with np.errstate(divide='ignore', invalid='ignore'):
        jaccard = np.asarray(intersection / union)
    jaccard[union == 0] = 1
    return float(jaccard) if jaccard.ndim == 0 else jaccard


def pairwise_region_similarity(gt_ids: np.ndarray, pred_ids: np.ndarray,
                               num_objects: int,
                               num_proposals: int) -> np.ndarray:
    """J of every (proposal, object) pair of one frame from one histogram.

    Void pixels must already be 0 in both id maps.

    Args:
        gt_ids: ``(H, W)`` uint8 ground-truth ids in ``[0, num_objects]``.
        pred_ids: ``(H, W)`` uint8 predicted ids in
            ``[0, num_proposals]``.
        num_objects: Number of ground-truth objects ``G``.
        num_proposals: Number of predicted objects ``R``.

    Returns:
        np.ndarray: ``(R, G)`` float64 J; ``[r, g]`` compares proposal
        ``r + 1`` with object ``g + 1``.
    """
    joint = _joint_histogram(gt_ids, pred_ids, num_objects + 1,
                             num_proposals + 1)
    intersection = joint[1:, 1:].T
    union = (joint[1:, :].sum(1)[None, :] + joint[:, 1:].sum(0)[:, None] -
             intersection)
    jaccard = np.ones(intersection.shape)
    np.divide(intersection, union, out=jaccard, where=union != 0)
    return jaccard


def _joint_histogram(gt_ids: np.ndarray, pred_ids: np.ndarray, num_gt_ids: int,
                     num_pred_ids: int) -> np.ndarray:
    """``(num_gt_ids, num_pred_ids)`` int64 pixel counts of each id pair.

    Small id ranges use OpenCV's histogram of ``gt * num_pred_ids + pred``
    (exact: its float32 counts are integers below 2^24 pixels); larger ones
    a numpy ``bincount`` over the box around the nonzero pixels.
    """
    num_codes = num_gt_ids * num_pred_ids
    if num_codes <= 256 and gt_ids.size < 2**24:
        codes = gt_ids * np.uint8(num_pred_ids) + pred_ids
        counts = cv2.calcHist([codes], [0], None, [num_codes], [0, num_codes])
        return counts.astype(np.int64).reshape(num_gt_ids, num_pred_ids)
    joint = np.zeros((num_gt_ids, num_pred_ids), np.int64)
    box = _union_box(gt_ids, pred_ids)
    if box is not None:
        gt_crop = gt_ids[box[0]:box[1], box[2]:box[3]]
        pred_crop = pred_ids[box[0]:box[1], box[2]:box[3]]
        joint = np.bincount(gt_crop.ravel().astype(np.int64) * num_pred_ids +
                            pred_crop.ravel(),
                            minlength=num_codes).reshape(joint.shape)
    return joint


def _union_box(*id_maps: np.ndarray) -> Optional[Tuple[int, int, int, int]]:
    """``(top, bottom, left, right)`` around every nonzero id, or None."""
    boxes = [box for box in map(nonzero_box, id_maps) if box is not None]
    if not boxes:
        return None
    return (min(box[0] for box in boxes), max(box[1] for box in boxes),
            min(box[2] for box in boxes), max(box[3] for box in boxes))


def db_statistics(per_frame: np.ndarray) -> Tuple[float, float, float]:
    """Mean, recall and decay of one object's per-frame scores.

    Recall is the fraction of frames strictly above 0.5; decay is the mean of
    the first minus the mean of the last of four overlapping bins bounded by
    ``round(linspace(1, T, 5) + 1e-10) - 1`` (official ``db_statistics``,
    including its uint8 bin indices).

    Args:
        per_frame: ``(T,)`` float scores.

    Returns:
        tuple: ``(mean, recall, decay)`` as floats (NaN for no frames).
    """
    per_frame = np.asarray(per_frame, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', category=RuntimeWarning)
        mean = np.nanmean(per_frame)
        recall = np.nanmean(per_frame > 0.5)
        bounds = (np.round(np.linspace(1, len(per_frame), 5) + 1e-10) -
                  1).astype(np.uint8)
        decay = (np.nanmean(per_frame[bounds[0]:bounds[1] + 1]) -
                 np.nanmean(per_frame[bounds[3]:bounds[4] + 1]))
    return float(mean), float(recall), float(decay)


def num_gt_objects(first_gt_ids: np.ndarray) -> int:
    """Number of objects: the highest id of the first frame, 255 as 0."""
    ids = first_gt_ids[first_gt_ids != VOID_ID]
    return int(ids.max()) if ids.size else 0


def _clean_gt(gt_ids: np.ndarray, num_objects: int) -> np.ndarray:
    """Set void and ids above ``num_objects`` to background; uint8 copy."""
    return np.where(gt_ids > num_objects, 0, gt_ids).astype(np.uint8)


def _pairwise_sequence_scores(
        gt_masks: MaskFrames, pred_masks: MaskFrames, num_objects: int,
        num_proposals: int, unsupervised: bool,
        bound_th: float) -> Tuple[np.ndarray, np.ndarray]:
    """Per-frame J and F of all pairs, as ``(R, G, T)`` float64 arrays.

    ``unsupervised`` excludes void pixels and scores F for every pair;
    otherwise (semi-supervised) void is background and F is scored for equal
    ids only (other F entries are 0).
    """
    num_frames = len(gt_masks)
    region = np.zeros((num_proposals, num_objects, num_frames))
    boundary = np.zeros((num_proposals, num_objects, num_frames))
    for frame in range(num_frames):
        gt_ids = _clean_gt(np.asarray(gt_masks[frame]), num_objects)
        pred_ids = np.asarray(pred_masks[frame], dtype=np.uint8)
        if unsupervised:
            pred_ids = np.where(
                np.asarray(gt_masks[frame]) == VOID_ID, 0, pred_ids)
        sizes = (num_objects, num_proposals)
        frame_region = pairwise_region_similarity(gt_ids, pred_ids, *sizes)
        frame_boundary = pairwise_boundary_f(gt_ids,
                                             pred_ids,
                                             *sizes,
                                             bound_th,
                                             same_ids_only=not unsupervised)
        region[..., frame] = frame_region
        boundary[..., frame] = frame_boundary
    return region, boundary


def _check_frames(gt_masks: MaskFrames, pred_masks: MaskFrames) -> None:
    """Raise ValueError unless both hold the same number of same-size maps
    and the predictions hold no negative ids."""
    if not len(gt_masks):
        raise ValueError('cannot evaluate a sequence without frames')
    if len(gt_masks) != len(pred_masks):
        raise ValueError(f'{len(gt_masks)} ground-truth frames but '
                         f'{len(pred_masks)} predicted frames')
    shape = np.shape(gt_masks[0])
    for index, (gt, pred) in enumerate(zip(gt_masks, pred_masks)):
        if len(shape) != 2 or np.shape(gt) != shape or np.shape(pred) != shape:
            raise ValueError(
                f'frame {index}: expected (H, W) id maps of size {shape}, '
                f'got ground truth {np.shape(gt)} and prediction '
                f'{np.shape(pred)}')
        if np.min(pred) < 0:
            raise ValueError(f'frame {index}: prediction has negative ids')


def _highest_id(masks: MaskFrames) -> int:
    return max(int(np.max(mask)) for mask in masks)


def evaluate_semisupervised_sequence(
        gt_masks: MaskFrames,
        pred_masks: MaskFrames,
        num_objects: int,
        bound_th: float = DEFAULT_BOUND_TH) -> Dict[str, np.ndarray]:
    """Semi-supervised per-object per-frame J and F of one sequence.

    Args:
        gt_masks: ``(T, H, W)`` uint8 ground-truth ids of the evaluated
            (inner) frames; 255 and ids above ``num_objects`` are
            background.
        pred_masks: ``(T, H, W)`` uint8 predicted ids of the same frames.
        num_objects: Number of objects ``G`` (see :func:`num_gt_objects`,
            taken on the sequence's first annotated frame).
        bound_th: Boundary tolerance.

    Returns:
        dict: ``'J'`` and ``'F'``, ``(G, T)`` float64 arrays; row ``g`` is
        object ``g + 1``.

    Raises:
        ValueError: On shape mismatch or a predicted id above
            ``num_objects``.
    """
    _check_frames(gt_masks, pred_masks)
    highest = _highest_id(pred_masks)
    if highest > num_objects:
        raise ValueError(f'prediction has id {highest} but the ground truth '
                         f'has only {num_objects} objects')
    region, boundary = _pairwise_sequence_scores(gt_masks, pred_masks,
                                                 num_objects, num_objects,
                                                 False, bound_th)
    diagonal = np.arange(num_objects)
    return dict(J=region[diagonal, diagonal], F=boundary[diagonal, diagonal])


def evaluate_unsupervised_sequence(
        gt_masks: MaskFrames,
        pred_masks: MaskFrames,
        num_objects: Optional[int] = None,
        max_proposals: int = MAX_PROPOSALS,
        bound_th: float = DEFAULT_BOUND_TH) -> Dict[str, np.ndarray]:
    """Unsupervised per-object per-frame J and F of one sequence.

    Args:
        gt_masks: ``(T, H, W)`` uint8 ground-truth ids of all frames (255 is
            void).
        pred_masks: ``(T, H, W)`` uint8 proposal ids; the number of
            proposals ``R`` is the highest id over all frames.
        num_objects: Number of objects ``G``; defaults to
            :func:`num_gt_objects` of the first frame.
        max_proposals: Most proposals allowed.
        bound_th: Boundary tolerance.

    Returns:
        dict: ``'J'`` and ``'F'``, ``(G, T)`` float64 arrays of the matched
        pairs, row ``k`` being the ``k``-th pair in ascending proposal id;
        ``'proposal_ids'`` and ``'object_ids'``, ``(G,)`` int64 1-based ids
        of each row's pair (ids above ``R`` are the zero padding).

    Raises:
        ValueError: On shape mismatch or more than ``max_proposals``
            proposals.
    """
    _check_frames(gt_masks, pred_masks)
    if num_objects is None:
        num_objects = num_gt_objects(gt_masks[0])
    num_proposals = _highest_id(pred_masks)
    if num_proposals > max_proposals:
        raise ValueError(f'prediction has id {num_proposals}, more than the '
                         f'{max_proposals} proposals allowed')
    num_rows = max(num_proposals, num_objects)
    region, boundary = _pairwise_sequence_scores(gt_masks, pred_masks,
                                                 num_objects, num_rows, True,
                                                 bound_th)
    pair_scores = (np.mean(region, axis=2) + np.mean(boundary, axis=2)) / 2
    rows, cols = linear_sum_assignment(-pair_scores)
    return dict(J=region[rows, cols],
                F=boundary[rows, cols],
                proposal_ids=rows.astype(np.int64) + 1,
                object_ids=cols.astype(np.int64) + 1)


def evaluate_unsupervised_sequence_per_frame(
        gt_masks: MaskFrames,
        pred_masks: MaskFrames,
        num_objects: Optional[int] = None,
        max_proposals: int = BBA_AUTHORS_MAX_PROPOSALS,
        bound_th: float = DEFAULT_BOUND_TH) -> Dict[str, np.ndarray]:
    """The Betrayed-by-Attention authors' unsupervised evaluation of one
    sequence: one assignment per frame. NOT the official DAVIS protocol.

    As ``_evaluate_unsupervised`` in the authors' modified
    ``davis2017/evaluation.py``: per-frame J and F of every (proposal,
    object) pair are computed as officially (void excluded, proposals
    zero-padded to the object count), then for every frame ``t`` a
    Hungarian assignment maximises ``J_t + F_t``; row ``k`` at frame ``t``
    is the ``k``-th matched pair of that frame in ascending proposal id, so
    a row may follow different objects in different frames. Row means
    (J-Mean, Recall) equal the mean of the per-frame optimal matches; Decay
    and per-row numbers mix objects.

    Args:
        gt_masks: ``(T, H, W)`` uint8 ground-truth ids (255 is void).
        pred_masks: ``(T, H, W)`` uint8 proposal ids, ``R`` = the highest.
        num_objects: Number of objects ``G``; defaults to
            :func:`num_gt_objects` of the first frame.
        max_proposals: Most proposals allowed (the authors': 300).
        bound_th: Boundary tolerance.

    Returns:
        dict: ``'J'`` and ``'F'``, ``(G, T)`` float64 arrays;
        ``'proposal_ids'`` and ``'object_ids'``, ``(G, T)`` int64 1-based
        ids of each row's pair in each frame.

    Raises:
        ValueError: On shape mismatch, more than ``max_proposals``
            proposals, or ids above 255 (mmsmtc's id maps are uint8).
    """
    _check_frames(gt_masks, pred_masks)
    if num_objects is None:
        num_objects = num_gt_objects(gt_masks[0])
    num_proposals = _highest_id(pred_masks)
    if num_proposals > min(max_proposals, MAX_UINT8_ID):
        raise ValueError(
            f'prediction has id {num_proposals}, more than the '
            f'{min(max_proposals, MAX_UINT8_ID)} proposals allowed '
            f'(the authors allow {max_proposals}; mmsmtc id maps hold '
            f'{MAX_UINT8_ID})')
    num_rows = max(num_proposals, num_objects)
    region, boundary = _pairwise_sequence_scores(gt_masks, pred_masks,
                                                 num_objects, num_rows, True,
                                                 bound_th)
    num_frames = len(gt_masks)
    shape = (num_objects, num_frames)
    scores = dict(J=np.zeros(shape),
                  F=np.zeros(shape),
                  proposal_ids=np.zeros(shape, np.int64),
                  object_ids=np.zeros(shape, np.int64))
    for frame in range(num_frames):
        rows, cols = linear_sum_assignment(-(region[..., frame] +
                                             boundary[..., frame]))
        scores['J'][:, frame] = region[rows, cols, frame]
        scores['F'][:, frame] = boundary[rows, cols, frame]
        scores['proposal_ids'][:, frame] = rows + 1
        scores['object_ids'][:, frame] = cols + 1
    return scores


def object_statistics(per_frame_j: np.ndarray,
                      per_frame_f: np.ndarray) -> Dict[str, float]:
    """The six statistics (``OBJECT_METRIC_KEYS``) of one object.

    Args:
        per_frame_j: ``(T,)`` J scores.
        per_frame_f: ``(T,)`` F scores.
    """
    j_stats = db_statistics(per_frame_j)
    f_stats = db_statistics(per_frame_f)
    return dict(zip(OBJECT_METRIC_KEYS, j_stats + f_stats))


def sequence_statistics(
        sequence: str,
        scores: Dict[str, np.ndarray]) -> Dict[str, Dict[str, float]]:
    """Name each object row ``<sequence>_<k>`` (1-based) with its statistics.

    Args:
        sequence: Sequence name.
        scores: Output of an ``evaluate_*_sequence`` function.

    Returns:
        dict: ``{'<sequence>_<k>': statistics}`` in row order.
    """
    return {
        f'{sequence}_{row + 1}':
        object_statistics(scores['J'][row], scores['F'][row])
        for row in range(len(scores['J']))
    }


def global_statistics(
        per_object: Dict[str, Dict[str, float]]) -> Dict[str, float]:
    """Global results: object statistics averaged over objects.

    Args:
        per_object: ``{'<seq>_<k>': statistics}`` in evaluation order.

    Returns:
        dict: ``GLOBAL_METRIC_KEYS`` to float; ``J&F-Mean`` is
        ``(J-Mean + F-Mean) / 2``.

    Raises:
        ValueError: If ``per_object`` is empty.
    """
    if not per_object:
        raise ValueError('no objects were evaluated')
    results = {
        key: float(np.mean([stats[key] for stats in per_object.values()]))
        for key in OBJECT_METRIC_KEYS
    }
    return {
        'J&F-Mean': (results['J-Mean'] + results['F-Mean']) / 2.,
        **results
    }


def evaluate_sequence(
        task: str,
        sequence: str,
        gt_masks: MaskFrames,
        pred_masks: MaskFrames,
        num_objects: Optional[int] = None) -> Dict[str, Dict[str, float]]:
    """Statistics of every object row of one sequence for a task.

    Args:
        task: ``'semi-supervised'`` or ``'unsupervised'``.
        sequence: Sequence name used in row names.
        gt_masks: ``(T, H, W)`` ground-truth ids of the evaluated frames.
        pred_masks: ``(T, H, W)`` predicted ids of the same frames.
        num_objects: Object count; defaults to :func:`num_gt_objects` of
            ``gt_masks[0]`` (pass it for semi-supervised inner frames).

    Returns:
        dict: ``{'<sequence>_<k>': statistics}``.
    """
    if num_objects is None:
        num_objects = num_gt_objects(gt_masks[0])
    if task == 'semi-supervised':
        scores = evaluate_semisupervised_sequence(gt_masks, pred_masks,
                                                  num_objects)
    elif task == 'unsupervised':
        scores = evaluate_unsupervised_sequence(gt_masks, pred_masks,
                                                num_objects)
    else:
        raise ValueError(f"task must be 'semi-supervised' or 'unsupervised', "
                         f'got {task!r}')
    return sequence_statistics(sequence, scores)
