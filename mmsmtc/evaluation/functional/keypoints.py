"""JHMDB keypoint PCK as CRW's ``code/eval/eval_pck.py`` or VFS's
``jhmdb_dataset.py`` (``pck_evaluate``, also Spa-then-Temp's).

CRW (ajabri/videowalk, the default ``'crw'`` protocol) does, for every
video with ground truth ``gt (T, J, 2)`` and prediction ``pred (T, J, 2)``
in pixel ``(x, y)``:

1. A predicted joint is *invisible* when its x coordinate is negative
   (``predres[0] < 0``); invisible joints are skipped everywhere below.
2. Per frame, the scale is ``0.6 * ||(max_x, max_y) - (min_x, min_y)||``
   over the ground-truth joints whose prediction is visible, with the
   running extremes started at ``max = -1`` and ``min = 1e6`` (so a maximum
   below -1 is clamped to -1): ``box_extremes='running'``.
3. Frame 0 (the given frame) is skipped; every other visible joint
   contributes ``||pred - gt|| / scale``. A zero scale (one visible joint)
   gives ``inf`` or ``nan``, which never passes the threshold but still
   counts in the denominator.
4. Distances are pooled per joint over all frames of all videos; PCK of a
   joint at ``alpha`` is the fraction ``<= alpha`` (inclusive); the reported
   number is the unweighted mean of the per-joint PCKs.

VFS (xvjiarui/VFS ``mmaction/datasets/jhmdb_dataset.py``, copied unchanged
into qianduoduolr/Spa-then-Temp ``vcl/datasets/jhmdb_dataset.py``), the
``'vfs'`` protocol, differs in three places: a joint is visible when
``x > 0`` (strict), frame 0 is scored, and the box takes the maximum and
minimum over the joints after setting the hidden ones to -1 and 1e6
(``box_extremes='joints'``: no clamp when every joint is visible, so a box
whose joints all lie left of x = -1 keeps its true width). Both pool and
average as in 4.

Both official codes score only the frames that have ground truth: a video
with more frames than ``pos_img`` is scored on its first ``T_gt`` frames
(CRW loops over the ground-truth frames; VFS "truncate[s] according to GT"),
and one with fewer frames fails there, as it does here.

Coordinates are 0-based pixels (both subtract 1 from JHMDB's ``pos_img``;
the dataset does that). Values are fractions in ``[0, 1]``, not percent.
"""
from typing import NamedTuple, Sequence, Tuple

import numpy as np

#: Initial running maximum / minimum of the reference's box loop.
_BOX_MAX_START = -1.0
_BOX_MIN_START = 1e6
#: Ratio of the box diagonal used as the PCK scale.
_BOX_DIAGONAL_RATIO = 0.6
#: Visibility rules of a predicted joint: CRW's and Spa-then-Temp / VFS's.
VISIBILITY_RULES = ('x >= 0', 'x > 0')
#: How the box extremes are taken: CRW's running loop or VFS's max / min
#: over the joints (see the module docstring).
BOX_EXTREMES = ('running', 'joints')


class PCKProtocol(NamedTuple):
    """The settings of one official PCK evaluation."""
    skip_first_frame: bool
    visibility: str
    box_extremes: str


#: The official PCK evaluations: CRW's ``eval_pck.py`` and VFS's /
#: Spa-then-Temp's ``pck_evaluate``.
PCK_PROTOCOLS = {
    'crw': PCKProtocol(skip_first_frame=True, visibility='x >= 0',
                       box_extremes='running'),
    'vfs': PCKProtocol(skip_first_frame=False, visibility='x > 0',
                       box_extremes='joints'),
}


def check_keypoints(keypoints: np.ndarray, name: str) -> np.ndarray:
    """Check a ``(T, J, 2)`` keypoint array and return it as float64.

    Raises:
        ValueError: If the shape is not ``(T, J, 2)`` with ``T, J > 0``, or
            a value is not finite.
    """
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 3 or keypoints.shape[2] != 2 or \
            keypoints.shape[0] == 0 or keypoints.shape[1] == 0:
        raise ValueError(f'{name}: expected (T, J, 2) keypoints, got shape '
                         f'{keypoints.shape}')
    if not np.issubdtype(keypoints.dtype, np.number):
        raise ValueError(f'{name}: expected numeric keypoints, got dtype '
                         f'{keypoints.dtype}')
    keypoints = keypoints.astype(np.float64)
    if not np.isfinite(keypoints).all():
        raise ValueError(f'{name}: keypoints must be finite')
    return keypoints


def pck_protocol(name: str) -> PCKProtocol:
    """The settings of the official PCK evaluation ``name``.

    Raises:
        ValueError: If ``name`` is not a key of :data:`PCK_PROTOCOLS`.
    """
    if name not in PCK_PROTOCOLS:
        raise ValueError(f'PCK protocol must be one of '
                         f'{sorted(PCK_PROTOCOLS)}, got {name!r}')
    return PCK_PROTOCOLS[name]


def visible_predictions(pred_keypoints: np.ndarray,
                        visibility: str = 'x >= 0') -> np.ndarray:
    """``(T, J)`` bool: the predicted joints with ``x >= 0`` (CRW's rule)
    or ``x > 0`` (``visibility='x > 0'``, Spa-then-Temp / VFS)."""
    if visibility not in VISIBILITY_RULES:
        raise ValueError(f'visibility must be one of {VISIBILITY_RULES}, '
                         f'got {visibility!r}')
    if visibility == 'x > 0':
        return pred_keypoints[..., 0] > 0
    return pred_keypoints[..., 0] >= 0


def pose_scales(gt_keypoints: np.ndarray,
                visible: np.ndarray,
                box_extremes: str = 'running') -> np.ndarray:
    """Per-frame PCK scale: 0.6 times the visible joints' box diagonal.

    Args:
        gt_keypoints: ``(T, J, 2)`` ground truth ``(x, y)``.
        visible: ``(T, J)`` bool, the joints whose prediction is visible.
        box_extremes: ``'running'`` (CRW: extremes started at -1 / 1e6, so
            they are clamped there) or ``'joints'`` (VFS: hidden joints set
            to -1 / 1e6, then max / min over the joints, no clamp).

    Returns:
        np.ndarray: ``(T,)`` float64 scales; a frame without a visible joint
        gets the reference's value from its untouched extremes.
    """
    if box_extremes not in BOX_EXTREMES:
        raise ValueError(f'box_extremes must be one of {BOX_EXTREMES}, got '
                         f'{box_extremes!r}')
    hidden = ~visible[..., None]
    maxima = np.where(hidden, _BOX_MAX_START, gt_keypoints).max(axis=1)
    minima = np.where(hidden, _BOX_MIN_START, gt_keypoints).min(axis=1)
    if box_extremes == 'running':
        maxima = np.maximum(maxima, _BOX_MAX_START)
        minima = np.minimum(minima, _BOX_MIN_START)
    return _BOX_DIAGONAL_RATIO * np.linalg.norm(maxima - minima, axis=-1)


def normalised_joint_distances(
        gt_keypoints: np.ndarray,
        pred_keypoints: np.ndarray,
        skip_first_frame: bool = True,
        video_name: str = 'video',
        visibility: str = 'x >= 0',
        box_extremes: str = 'running') -> Tuple[np.ndarray, np.ndarray]:
    """Distances of one video divided by the per-frame scale.

    Args:
        gt_keypoints: ``(T, J, 2)`` ground truth ``(x, y)`` pixels.
        pred_keypoints: ``(T, J, 2)`` predictions, ``x < 0`` for invisible.
        skip_first_frame: Drop frame 0 (the reference does).
        video_name: For error messages.
        visibility: One of :data:`VISIBILITY_RULES`.
        box_extremes: One of :data:`BOX_EXTREMES` (see :func:`pose_scales`).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(T, J)`` float64 normalised
        distances (``inf``/``nan`` where the scale is 0) and ``(T, J)`` bool
        mask of the entries that are scored.

    Raises:
        ValueError: If an array is malformed or the shapes differ.
    """
    gt_keypoints = check_keypoints(gt_keypoints, f'{video_name}: gt_keypoints')
    pred_keypoints = check_keypoints(pred_keypoints,
                                     f'{video_name}: pred_keypoints')
    if gt_keypoints.shape != pred_keypoints.shape:
        raise ValueError(
            f'{video_name}: gt_keypoints of shape {gt_keypoints.shape} but '
            f'pred_keypoints of shape {pred_keypoints.shape}')
    visible = visible_predictions(pred_keypoints, visibility)
    scales = pose_scales(gt_keypoints, visible, box_extremes)
    distances = np.linalg.norm(pred_keypoints - gt_keypoints, axis=-1)
    with np.errstate(divide='ignore', invalid='ignore'):
        distances = distances / scales[:, None]
    scored = visible.copy()
    if skip_first_frame:
        scored[0] = False
    return distances, scored


def ground_truth_frames(pred_keypoints: np.ndarray, num_gt_frames: int,
                        video_name: str = 'video') -> np.ndarray:
    """The predictions of the ``T_gt`` frames that have ground truth.

    Both official evaluations score a video whose folder holds more frames
    than its ``pos_img`` on the first ``T_gt`` frames (see the module
    docstring).

    Args:
        pred_keypoints: ``(T, J, 2)`` predictions of every frame.
        num_gt_frames: ``T_gt``.
        video_name: For error messages.

    Returns:
        np.ndarray: ``pred_keypoints[:T_gt]``.

    Raises:
        ValueError: If the video has fewer frames than its ground truth
            (both official codes fail there too).
    """
    if len(pred_keypoints) < num_gt_frames:
        raise ValueError(
            f'{video_name}: {len(pred_keypoints)} predicted frames but '
            f'ground truth for {num_gt_frames}')
    return pred_keypoints[:num_gt_frames]


def joint_hit_counts(distances: np.ndarray, scored: np.ndarray,
                     alphas: Sequence[float]) -> Tuple[np.ndarray, np.ndarray]:
    """Count, per joint, scored distances ``<= alpha`` and scored entries.

    Args:
        distances: ``(T, J)`` normalised distances.
        scored: ``(T, J)`` bool mask of scored entries.
        alphas: ``A`` thresholds.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(A, J)`` int64 hits and ``(J,)``
        int64 numbers of scored entries.
    """
    thresholds = np.asarray(alphas, dtype=np.float64)[:, None, None]
    with np.errstate(invalid='ignore'):
        hits = (distances[None] <= thresholds) & scored[None]
    return hits.sum(axis=1).astype(np.int64), scored.sum(axis=0).astype(
        np.int64)


def pck_from_counts(hits: np.ndarray,
                    totals: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """PCK per joint and its mean over joints from pooled counts.

    Args:
        hits: ``(A, J)`` hits summed over all videos.
        totals: ``(J,)`` scored entries summed over all videos.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(A, J)`` per-joint PCK and ``(A,)``
        mean over joints, float64 fractions.

    Raises:
        ValueError: If a joint was never scored (the reference divides by
            zero there).
    """
    totals = np.asarray(totals)
    if (totals == 0).any():
        raise ValueError(
            'PCK: joints '
            f'{np.flatnonzero(totals == 0).tolist()} have no visible '
            'prediction in any scored frame; PCK is undefined')
    per_joint = np.asarray(hits, dtype=np.float64) / totals[None]
    return per_joint, per_joint.mean(axis=1)


def pck(gt_keypoints: Sequence[np.ndarray],
        pred_keypoints: Sequence[np.ndarray],
        alphas: Sequence[float] = (0.1, 0.2),
        protocol: str = 'crw') -> np.ndarray:
    """PCK of a set of videos, pooled per joint, averaged over joints.

    Args:
        gt_keypoints: One ``(T_i, J, 2)`` ground-truth array per video.
        pred_keypoints: One ``(T_i, J, 2)`` prediction array per video.
        alphas: ``A`` thresholds.
        protocol: A key of :data:`PCK_PROTOCOLS`.

    Returns:
        np.ndarray: ``(A,)`` float64 PCK at each alpha.

    Raises:
        ValueError: On empty or mismatched inputs, or a never-scored joint.
    """
    if len(gt_keypoints) == 0 or len(gt_keypoints) != len(pred_keypoints):
        raise ValueError(f'PCK: {len(gt_keypoints)} ground-truth videos and '
                         f'{len(pred_keypoints)} predicted videos')
    settings = pck_protocol(protocol)
    hits, totals = None, None
    for index, (gt, pred) in enumerate(zip(gt_keypoints, pred_keypoints)):
        pred = ground_truth_frames(np.asarray(pred), len(gt), f'video {index}')
        distances, scored = normalised_joint_distances(
            gt, pred, settings.skip_first_frame, f'video {index}',
            settings.visibility, settings.box_extremes)
        video_hits, video_totals = joint_hit_counts(distances, scored, alphas)
        if hits is None:
            hits, totals = video_hits, video_totals
        elif video_totals.shape != totals.shape:
            raise ValueError(f'PCK: video {index} has {len(video_totals)} '
                             f'joints, video 0 has {len(totals)}')
        else:
            hits, totals = hits + video_hits, totals + video_totals
    return pck_from_counts(hits, totals)[1]
