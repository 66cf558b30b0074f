"""Video FG-ARI and video mBO as VideoSAUR defines them.

Reference: martius-lab/videosaur ``videosaur/metrics.py`` (``VideoARI``,
``VideoIoU`` with ``matching='overlap'``), whose ARI is the SAVi one.
All frames of a video are flattened together, so a predicted id must keep
its object over time to score.

- Ground truth: id 0 is background, ``void_id`` (255) is unlabelled. With
  ``ignore_background=True`` (FG-ARI, the number papers report) background
  pixels belong to no ground-truth cluster and are left out of the ARI, and
  background is not an object for mBO; with ``False`` it is one more
  cluster / object. Void pixels are removed from ground truth and
  prediction alike (VideoSAUR's treatment of ignored overlap pixels).
- Prediction: every id, 0 included, is a cluster (slot).
- ARI from the contingency table ``N`` (ground truth x prediction) in exact
  float64: ``(sum n(n-1) - E) / ((sum a(a-1) + sum b(b-1)) / 2 - E)`` with
  ``E = sum a(a-1) * sum b(b-1) / max(N(N-1), 1)``; a zero denominator (one
  cluster on both sides, or at most one point per cluster) gives 1.
- mBO: each ground-truth object present in the video takes the IoU of its
  best-overlapping predicted id over the whole video; the video's mBO is the
  mean over its objects.
- A video without any ground-truth pixel / object is skipped (``None``);
  datasets average the per-video values over the remaining videos.
"""
from typing import Optional, Tuple

import numpy as np

from .segmentation import check_id_maps, check_same_frames

#: Largest ``(max gt id + 1) * (max predicted id + 1)`` counted densely.
_MAX_DENSE_TABLE = 1 << 20


def contingency_table(gt_ids: np.ndarray, pred_ids: np.ndarray) -> np.ndarray:
    """Count co-occurrences of ground-truth and predicted ids.

    Args:
        gt_ids: ``(N,)`` integer ground-truth ids of the scored points.
        pred_ids: ``(N,)`` integer predicted ids of the same points.

    Returns:
        np.ndarray: ``(G, P)`` int64 counts over the ``G`` distinct
        ground-truth and ``P`` distinct predicted ids (sorted).
    """
    return _unique_contingency(gt_ids, pred_ids)[0]


def _unique_contingency(
        gt_ids: np.ndarray,
        pred_ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contingency of any integer ids: ``(G, P)`` counts and the ids."""
    gt_values, gt_index = np.unique(gt_ids, return_inverse=True)
    pred_values, pred_index = np.unique(pred_ids, return_inverse=True)
    counts = np.bincount(gt_index.reshape(-1) * len(pred_values) +
                         pred_index.reshape(-1),
                         minlength=len(gt_values) * len(pred_values))
    table = counts.reshape(len(gt_values), len(pred_values))
    return table.astype(np.int64), gt_values, pred_values


def video_contingency(
        gt_masks: np.ndarray,
        pred_masks: np.ndarray,
        void_id: Optional[int] = 255,
        video_name: str = 'video'
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contingency table of a whole video, void pixels left out.

    Small non-negative ids (the usual uint8 maps) are counted frame by frame
    with one ``bincount`` each, so memory stays at a few frames; other ids
    go through ``np.unique``.

    Args:
        gt_masks: ``(T, H, W)`` integer ground-truth ids.
        pred_masks: ``(T, H, W)`` integer predicted ids.
        void_id: Ground-truth id whose pixels are dropped, or ``None``.
        video_name: For error messages.

    Returns:
        tuple: ``(G, P)`` int64 counts, ``(G,)`` ground-truth ids and
        ``(P,)`` predicted ids present in the scored pixels (sorted).

    Raises:
        ValueError: If the maps are not matching integer ``(T, H, W)``
            arrays.
    """
    gt_masks = check_id_maps(gt_masks, f'{video_name}: gt_masks')
    pred_masks = check_id_maps(pred_masks, f'{video_name}: pred_masks')
    check_same_frames(gt_masks, pred_masks, video_name)
    gt_max, pred_max = int(gt_masks.max()), int(pred_masks.max())
    small_ids = min(gt_masks.min(), pred_masks.min()) >= 0 and (gt_max + 1) * (
        pred_max + 1) <= _MAX_DENSE_TABLE
    if not small_ids:
        kept = slice(None) if void_id is None else gt_masks != void_id
        return _unique_contingency(gt_masks[kept], pred_masks[kept])
    table = np.zeros((gt_max + 1) * (pred_max + 1), dtype=np.int64)
    for gt, pred in zip(gt_masks, pred_masks):
        pairs = gt.astype(np.int64) * (pred_max + 1) + pred
        if void_id is not None:
            pairs = pairs[gt != void_id]
        table += np.bincount(pairs.reshape(-1), minlength=table.size)
    table = table.reshape(gt_max + 1, pred_max + 1)
    gt_values = np.flatnonzero(table.sum(axis=1))
    pred_values = np.flatnonzero(table.sum(axis=0))
    return table[gt_values][:, pred_values], gt_values, pred_values


def adjusted_rand_index(table: np.ndarray) -> float:
    """ARI of a ``(G, P)`` contingency table (SAVi / VideoSAUR formula).

    Returns:
        float: The ARI, 1.0 where its denominator is 0.
    """
    table = np.asarray(table, dtype=np.float64)
    gt_sizes = table.sum(axis=1)
    pred_sizes = table.sum(axis=0)
    num_points = gt_sizes.sum()
    pair_index = (table * (table - 1)).sum()
    gt_index = (gt_sizes * (gt_sizes - 1)).sum()
    pred_index = (pred_sizes * (pred_sizes - 1)).sum()
    expected_index = gt_index * pred_index / max(num_points *
                                                 (num_points - 1), 1.0)
    max_index = (gt_index + pred_index) / 2
    denominator = max_index - expected_index
    if denominator == 0:
        return 1.0
    return float((pair_index - expected_index) / denominator)


def video_ari(gt_masks: np.ndarray,
              pred_masks: np.ndarray,
              ignore_background: bool = True,
              void_id: Optional[int] = 255,
              video_name: str = 'video') -> Optional[float]:
    """(FG-)ARI of one video, all frames together.

    Args:
        gt_masks: ``(T, H, W)`` integer ground-truth ids.
        pred_masks: ``(T, H, W)`` integer predicted ids.
        ignore_background: Leave ground-truth background (id 0) out.
        void_id: Ground-truth id removed from scoring, or ``None``.
        video_name: For error messages.

    Returns:
        float | None: The ARI, or ``None`` when no pixel belongs to a
        ground-truth cluster (the video is skipped).
    """
    table, gt_values, _ = video_contingency(gt_masks, pred_masks, void_id,
                                            video_name)
    clusters = table[gt_values > 0] if ignore_background else table
    if clusters.size == 0:
        return None
    return adjusted_rand_index(clusters)


def video_mbo(gt_masks: np.ndarray,
              pred_masks: np.ndarray,
              ignore_background: bool = True,
              void_id: Optional[int] = 255,
              video_name: str = 'video') -> Optional[float]:
    """Mean best overlap of one video, all frames together.

    Args:
        gt_masks: ``(T, H, W)`` integer ground-truth ids.
        pred_masks: ``(T, H, W)`` integer predicted ids.
        ignore_background: Do not count background (id 0) as an object.
        void_id: Ground-truth id removed from scoring, or ``None``.
        video_name: For error messages.

    Returns:
        float | None: Mean over the video's ground-truth objects of their
        best IoU with a predicted id, or ``None`` without any object.
    """
    table, gt_values, _ = video_contingency(gt_masks, pred_masks, void_id,
                                            video_name)
    pred_sizes = table.sum(axis=0)
    objects = table[gt_values > 0] if ignore_background else table
    if objects.size == 0:
        return None
    objects = objects.astype(np.float64)
    unions = objects.sum(axis=1, keepdims=True) + pred_sizes[None] - objects
    return float((objects / unions).max(axis=1).mean())
