"""Id-map checks, nearest-neighbour resizing and confusion-matrix mIoU.

The mIoU follows the VIP part-parsing evaluation that CRW and its successors
use (HCPLab-SYSU/ATEN ``evaluate/test_parsing.py``): one ``(C, C)``
confusion matrix over all scored frames of all videos, ground-truth pixels
whose class lies outside ``[0, C)`` (void 255 included) are ignored,
per-class IoU ``= TP / (TP + FP + FN)``, and the mean over classes skips
classes whose union is empty (``np.nanmean``), background included.

VFS's ``VIPDataset.vip_evaluate`` (xvjiarui/VFS, copied into Spa-then-Temp
as ``vip_dataset_rgb``) counts the pixels differently, with mmseg's
``intersect_and_union`` (``np.histogram`` over the bin edges
``0, 1, ..., C``): only ground truth 255 is ignored, ids outside the bins
are dropped from their own histogram only, and id ``C`` falls in the last,
closed bin ``[C-1, C]`` (:func:`histogram_areas`). It pairs frame ``i``
with the ``i``-th sorted annotation file and does not resize predictions.
On VIP's ids (0..19 and 255) the two countings agree; they differ only on
other ids.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
from PIL import Image

#: The 20 classes of VIP (background + 19 human parts), in id order.
VIP_PART_CLASSES = ('background', 'hat', 'hair', 'sun-glasses',
                    'upper-clothes', 'dress', 'coat', 'socks', 'pants',
                    'gloves', 'scarf', 'skirt', 'torso-skin', 'face',
                    'right-arm', 'left-arm', 'right-leg', 'left-leg',
                    'right-shoe', 'left-shoe')


def check_id_maps(ids: np.ndarray, name: str, ndim: int = 3) -> np.ndarray:
    """Check that ``ids`` is an integer id map with ``ndim`` dimensions.

    Args:
        ids: Array-like of ids, ``(T, H, W)`` for ``ndim=3``.
        name: What the array is (``'bike-packing: pred_masks'``), used in
            error messages.
        ndim: The required number of dimensions.

    Returns:
        np.ndarray: ``ids`` as an array (no copy when already one).

    Raises:
        ValueError: If ``ids`` is empty, has another number of
            dimensions, or is not of an integer (or bool) dtype; float
            masks would silently be truncated.
    """
    ids = np.asarray(ids)
    if ids.ndim != ndim:
        raise ValueError(f'{name}: expected {ndim} dimensions, got shape '
                         f'{ids.shape}')
    if ids.size == 0:
        raise ValueError(f'{name}: empty array of shape {ids.shape}')
    if not (np.issubdtype(ids.dtype, np.integer) or ids.dtype == bool):
        raise ValueError(f'{name}: expected integer ids, got dtype '
                         f'{ids.dtype}')
    return ids


def check_same_frames(gt_masks: np.ndarray, pred_masks: np.ndarray,
                      video_name: str) -> None:
    """Check that ``(T, H, W)`` ground truth and prediction line up.

    Raises:
        ValueError: Naming the video, and the first mismatching frame when
            the frame counts agree but a frame size differs.
    """
    if len(gt_masks) != len(pred_masks):
        raise ValueError(f'{video_name}: {len(gt_masks)} ground-truth frames '
                         f'but {len(pred_masks)} predicted frames')
    if gt_masks.shape[1:] != pred_masks.shape[1:]:
        raise ValueError(f'{video_name}: frame 0 has ground truth of size '
                         f'{gt_masks.shape[1:]} but prediction of size '
                         f'{pred_masks.shape[1:]}')


def select_annotated_frames(pred_masks: np.ndarray,
                            frame_indices: Optional[np.ndarray],
                            num_annotated: int, video_name: str) -> np.ndarray:
    """Pick the predicted frames that have ground truth.

    Args:
        pred_masks: ``(T, H, W)`` predicted ids of every frame.
        frame_indices: ``(T_a,)`` positions of the annotated frames, or
            ``None`` when every frame is annotated.
        num_annotated: ``T_a``, the number of ground-truth frames.
        video_name: For error messages.

    Returns:
        np.ndarray: ``(T_a, H, W)`` predictions of the annotated frames.

    Raises:
        ValueError: If the indices do not match the ground truth count or
            point outside the video, or, without indices, the frame counts
            differ, or ``pred_masks`` is not an integer ``(T, H, W)`` map.
    """
    pred_masks = check_id_maps(pred_masks, f'{video_name}: pred_masks')
    if frame_indices is None:
        if len(pred_masks) != num_annotated:
            raise ValueError(
                f'{video_name}: {num_annotated} ground-truth frames but '
                f'{len(pred_masks)} predicted frames and no '
                'gt_mask_frame_indices')
        return pred_masks
    frame_indices = np.asarray(frame_indices).reshape(-1)
    if len(frame_indices) != num_annotated:
        raise ValueError(
            f'{video_name}: {len(frame_indices)} gt_mask_frame_indices for '
            f'{num_annotated} ground-truth frames')
    if not np.issubdtype(frame_indices.dtype, np.integer):
        raise ValueError(f'{video_name}: gt_mask_frame_indices must be '
                         f'integers, got dtype {frame_indices.dtype}')
    outside = (frame_indices < 0) | (frame_indices >= len(pred_masks))
    if outside.any():
        raise ValueError(
            f'{video_name}: annotated frame {int(frame_indices[outside][0])} '
            f'lies outside the {len(pred_masks)} predicted frames')
    return pred_masks[frame_indices]


def nearest_resize(ids: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Resize an ``(H, W)`` id map to ``size = (H', W')`` by nearest neighbour.

    Uses Pillow's ``NEAREST`` resampling, which is what the ATEN script does
    to a palette prediction whose size differs from the label (Pillow forces
    nearest-neighbour for palette images); the pixel picked for output
    ``x'`` is the one under the output pixel centre, ``(x' + 0.5) * W / W'``.

    Args:
        ids: ``(H, W)`` integer ids in ``[0, 2**31)``.
        size: ``(H', W')``.

    Returns:
        np.ndarray: ``(H', W')`` ids of the dtype of ``ids``.
    """
    if ids.shape == tuple(size):
        return ids
    mode = 'L' if ids.dtype == np.uint8 else 'I'
    image = Image.fromarray(ids.astype(np.uint8 if mode == 'L' else np.int32),
                            mode=mode)
    resized = image.resize((size[1], size[0]), Image.Resampling.NEAREST)
    return np.asarray(resized).astype(ids.dtype)


def confusion_matrix(gt_ids: np.ndarray,
                     pred_ids: np.ndarray,
                     num_classes: int,
                     name: str = 'masks') -> np.ndarray:
    """Count ``(ground truth, prediction)`` class pairs over all pixels.

    Args:
        gt_ids: Integer ground-truth ids of any shape; pixels outside
            ``[0, num_classes)`` (void 255 included) are ignored, as in the
            ATEN script.
        pred_ids: Integer predicted ids of the same shape.
        num_classes: ``C``.
        name: For error messages.

    Returns:
        np.ndarray: ``(C, C)`` int64 counts, rows ground truth, columns
        prediction.

    Raises:
        ValueError: If the shapes differ, or a scored pixel has a predicted
            id outside ``[0, C)`` (the reference would silently count it in
            another cell or crash).
    """
    if gt_ids.shape != pred_ids.shape:
        raise ValueError(f'{name}: ground truth of shape {gt_ids.shape} but '
                         f'prediction of shape {pred_ids.shape}')
    gt_ids = gt_ids.reshape(-1).astype(np.int64)
    pred_ids = pred_ids.reshape(-1).astype(np.int64)
    scored = (gt_ids >= 0) & (gt_ids < num_classes)
    gt_ids, pred_ids = gt_ids[scored], pred_ids[scored]
    bad = (pred_ids < 0) | (pred_ids >= num_classes)
    if bad.any():
        raise ValueError(f'{name}: predicted class {int(pred_ids[bad][0])} '
                         f'outside [0, {num_classes})')
    counts = np.bincount(gt_ids * num_classes + pred_ids,
                         minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def per_class_iou(confusion: np.ndarray) -> np.ndarray:
    """IoU of every class from a ``(C, C)`` confusion matrix.

    Returns:
        np.ndarray: ``(C,)`` float64; NaN for a class that is neither in the
        ground truth nor predicted (empty union).
    """
    confusion = confusion.astype(np.float64)
    true_positives = np.diag(confusion)
    unions = confusion.sum(0) + confusion.sum(1) - true_positives
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(unions > 0, true_positives / unions, np.nan)


def mean_iou(confusion: np.ndarray) -> float:
    """Mean IoU over the classes with a non-empty union (``np.nanmean``).

    Raises:
        ValueError: If no pixel was scored at all.
    """
    ious = per_class_iou(confusion)
    if np.isnan(ious).all():
        raise ValueError('mIoU: no ground-truth pixel was scored')
    return float(np.nanmean(ious))


def histogram_counts(ids: np.ndarray, num_classes: int) -> np.ndarray:
    """``np.histogram(ids, bins=np.arange(num_classes + 1))[0]`` for
    integer ids, by ``np.bincount``.

    Ids ``0..C-1`` fall in their own bin, id ``C`` in the last one (numpy's
    last bin is closed), others in none.

    Returns:
        np.ndarray: ``(C,)`` int64 counts.
    """
    ids = np.asarray(ids).reshape(-1).astype(np.int64)
    ids = ids[(ids >= 0) & (ids <= num_classes)]
    return np.bincount(np.minimum(ids, num_classes - 1),
                       minlength=num_classes)


def histogram_areas(gt_ids: np.ndarray,
                    pred_ids: np.ndarray,
                    num_classes: int,
                    ignore_index: int = 255,
                    name: str = 'masks') -> np.ndarray:
    """Per-class areas of one frame as mmseg's ``intersect_and_union``
    (the counting of VFS's VIP evaluation).

    Pixels whose ground truth is ``ignore_index`` are dropped; of the
    others, the intersection is the predicted ids equal to the ground
    truth, and each of intersection, prediction and ground truth is counted
    with :func:`histogram_counts`.

    Args:
        gt_ids: ``(H, W)`` integer ground-truth ids.
        pred_ids: ``(H, W)`` integer predicted ids, of the same size (the
            reference does not resize).
        num_classes: ``C``.
        ignore_index: The void id.
        name: For error messages.

    Returns:
        np.ndarray: ``(3, C)`` int64: intersection, prediction and ground
        truth areas; the union is ``prediction + ground truth -
        intersection``.

    Raises:
        ValueError: If the sizes differ (the reference fails there too).
    """
    if gt_ids.shape != pred_ids.shape:
        raise ValueError(f'{name}: ground truth of shape {gt_ids.shape} but '
                         f'prediction of shape {pred_ids.shape}; VFS\'s VIP '
                         'evaluation does not resize predictions')
    scored = gt_ids != ignore_index
    gt_ids, pred_ids = gt_ids[scored], pred_ids[scored]
    return np.stack([
        histogram_counts(pred_ids[pred_ids == gt_ids], num_classes),
        histogram_counts(pred_ids, num_classes),
        histogram_counts(gt_ids, num_classes)
    ])


def iou_from_areas(areas: np.ndarray) -> np.ndarray:
    """Per-class IoU from ``(3, C)`` intersection, prediction and ground
    truth areas; NaN where the union is empty.

    Returns:
        np.ndarray: ``(C,)`` float64.
    """
    intersection, predicted, labelled = np.asarray(areas, dtype=np.float64)
    unions = predicted + labelled - intersection
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(unions > 0, intersection / unions, np.nan)


def video_histogram_areas(gt_masks: np.ndarray,
                          pred_masks: np.ndarray,
                          num_classes: int,
                          frame_indices: Optional[Sequence[int]] = None,
                          video_name: str = 'video') -> np.ndarray:
    """The ``(3, C)`` areas of one video as VFS's VIP evaluation.

    VFS scores every frame ``i`` of the video against the ``i``-th sorted
    annotation file, so it can only score a video whose every frame is
    annotated (VIP_Fine holds only annotated frames); a video with an
    unannotated frame stops the reference with an ``IndexError``, and is an
    error here.

    Args:
        gt_masks: ``(T_a, H, W)`` ground-truth class ids.
        pred_masks: ``(T, H, W)`` predicted class ids.
        num_classes: ``C``.
        frame_indices: ``(T_a,)`` positions of the annotated frames, or
            ``None`` when ``T == T_a``.
        video_name: For error messages.

    Returns:
        np.ndarray: ``(3, C)`` int64 areas (see :func:`histogram_areas`).

    Raises:
        ValueError: If a frame is not annotated, or a predicted id lies
            outside ``[0, 255]`` (the reference writes uint8 PNGs).
    """
    gt_masks = check_id_maps(gt_masks, f'{video_name}: gt_masks')
    pred_masks = check_id_maps(pred_masks, f'{video_name}: pred_masks')
    positions = (np.arange(len(gt_masks)) if frame_indices is None else
                 np.asarray(frame_indices).reshape(-1))
    if len(gt_masks) != len(pred_masks) or not np.array_equal(
            positions, np.arange(len(pred_masks))):
        raise ValueError(
            f'{video_name}: {len(gt_masks)} of {len(pred_masks)} frames are '
            'annotated; VFS\'s VIP evaluation pairs frame i with the i-th '
            'annotation and needs every frame annotated')
    if pred_masks.min() < 0 or pred_masks.max() > 255:
        raise ValueError(f'{video_name}: predicted ids must lie in [0, 255] '
                         '(the reference writes uint8 PNGs), got '
                         f'[{pred_masks.min()}, {pred_masks.max()}]')
    return sum(
        histogram_areas(gt, pred, num_classes, name=f'{video_name}: frame {t}')
        for t, (gt, pred) in enumerate(zip(gt_masks, pred_masks)))


def video_confusion_matrix(gt_masks: np.ndarray,
                           pred_masks: np.ndarray,
                           num_classes: int,
                           frame_indices: Optional[Sequence[int]] = None,
                           video_name: str = 'video') -> np.ndarray:
    """The confusion matrix of one video's annotated frames.

    Args:
        gt_masks: ``(T_a, H, W)`` ground-truth class ids.
        pred_masks: ``(T, H', W')`` predicted class ids of every frame; each
            scored frame is resized to ``(H, W)`` by :func:`nearest_resize`
            when the sizes differ.
        num_classes: ``C``.
        frame_indices: ``(T_a,)`` positions of the annotated frames, or
            ``None`` when ``T == T_a`` and every frame is annotated.
        video_name: For error messages.

    Returns:
        np.ndarray: ``(C, C)`` int64 counts.
    """
    gt_masks = check_id_maps(gt_masks, f'{video_name}: gt_masks')
    pred_masks = select_annotated_frames(pred_masks, frame_indices,
                                         len(gt_masks), video_name)
    positions = range(len(gt_masks)) if frame_indices is None else [
        int(index) for index in np.asarray(frame_indices).reshape(-1)
    ]
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    for frame, gt, pred in zip(positions, gt_masks, pred_masks):
        pred = nearest_resize(pred, gt.shape)
        confusion += confusion_matrix(gt, pred, num_classes,
                                      f'{video_name}: frame {frame}')
    return confusion
