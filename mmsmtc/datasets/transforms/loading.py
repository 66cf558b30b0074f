"""Loading transforms: clip frames (eager) and whole videos (lazy)."""
import logging
from typing import Dict

import numpy as np
import scipy.io
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmsmtc.registry import TRANSFORMS
from ..frame_io import read_frame_size, read_rgb_frame
from ..lazy_sequence import LazyFrameSequence, LazyMaskSequence


@TRANSFORMS.register_module()
class LoadClipFrames(BaseTransform):
    """Decode the few frames of a training clip.

    Required Keys:
        - frame_paths (list[str]): the ``T`` frame files.

    Added Keys:
        - imgs (list[np.ndarray]): ``T`` ``(H, W, 3)`` uint8 RGB frames.
        - ori_shape (tuple[int, int]): ``(H, W)``.
        - img_shape (tuple[int, int]): ``(H, W)``.

    Raises:
        ValueError: If a frame is corrupt or frames of the clip differ in
            size (the message names the file).
    """

    def transform(self, results: Dict) -> Dict:
        imgs = [read_rgb_frame(path) for path in results['frame_paths']]
        for path, img in zip(results['frame_paths'], imgs):
            if img.shape != imgs[0].shape:
                raise ValueError(
                    f'{path}: frame size {img.shape[:2]} differs from the '
                    f'clip\'s first frame size {imgs[0].shape[:2]}')
        results['imgs'] = imgs
        results['ori_shape'] = imgs[0].shape[:2]
        results['img_shape'] = imgs[0].shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadVideoFrames(BaseTransform):
    """Wrap a whole video's frames in a lazy sequence (nothing decoded).

    Only the first frame's header is read, for the video size; every frame
    is checked against it when it is decoded.

    Required Keys:
        - frame_paths (list[str]): the ``T`` frame files.

    Added Keys:
        - frames (LazyFrameSequence): ``T`` frames, ``(H, W, 3)`` uint8 RGB
          each on access.
        - ori_shape (tuple[int, int]): ``(H, W)``.
        - num_frames (int): ``T``.
    """

    def transform(self, results: Dict) -> Dict:
        frame_shape = read_frame_size(results['frame_paths'][0])
        results['frames'] = LazyFrameSequence(results['frame_paths'],
                                              frame_shape)
        results['ori_shape'] = frame_shape
        results['num_frames'] = len(results['frame_paths'])
        return results


@TRANSFORMS.register_module()
class WithholdLastFrame(BaseTransform):
    """Withhold a video's last frame from the model (not an official
    protocol).

    The Betrayed-by-Attention authors' evaluation reads frames ``0..T-2``
    only (``range(tot - 1)`` in their ``src/data.py``) and scores the last
    frame with a copy of the second-last prediction. Put this before
    :class:`LoadVideoFrames`; ``frame_names`` and the annotations keep all
    ``T`` frames, and ``DAVISMetric(protocol='bba-authors')`` restores the
    last prediction.

    Required Keys:
        - frame_paths (list[str]): the ``T`` frame files.

    Modified Keys:
        - frame_paths (list[str]): the first ``T - 1``.

    Raises:
        ValueError: If the video has fewer than 2 frames.
    """

    def transform(self, results: Dict) -> Dict:
        paths = results['frame_paths']
        if len(paths) < 2:
            raise ValueError(
                f'{results.get("video_name", paths)}: cannot withhold the '
                f'last frame of a video of {len(paths)} frame(s)')
        results['frame_paths'] = list(paths[:-1])
        return results


def first_frame_objects(mask: np.ndarray, path: str):
    """Object ids of a first-frame mask, with the official DAVIS count.

    The official DAVIS tools count ``max id`` objects (255, void, counts as
    0): objects are ``1..max id`` even when some of those ids are absent.
    Absent ids are kept (they score as empty objects) and logged.

    Args:
        mask: ``(H, W)`` uint8 ids.
        path: The mask file, for the log message.

    Returns:
        tuple[int, list[int]]: ``num_objects`` and the ids present.
    """
    present = [int(i) for i in np.unique(mask) if 0 < i < 255]
    num_objects = max(present, default=0)
    absent = sorted(set(range(1, num_objects + 1)) - set(present))
    if absent:
        print_log(
            f'{path}: object ids are not contiguous, ids {absent} are absent '
            f'from the first annotated frame; following the official DAVIS '
            f'definition the video still has {num_objects} objects '
            '(absent ones are empty)', logger='current', level=30)
    return num_objects, present


@TRANSFORMS.register_module()
class LoadVideoAnnotations(BaseTransform):
    """Wrap a video's annotation masks in a lazy sequence.

    Only the first annotated mask is read (for the object count); every
    mask is size-checked (and small mismatches repaired, logged) on access.

    Required Keys:
        - mask_paths (list[str]): the ``T_a`` annotation PNGs.
        - mask_frame_indices (list[int]): their frame positions.
        - ori_shape (tuple[int, int]): ``(H, W)`` of the frames.

    Optional Keys:
        - binarize_masks (bool): single-object masks (default False).
        - max_size_gap (int): largest repaired size gap (default 2).

    Added Keys:
        - gt_masks (LazyMaskSequence): ``T_a`` masks, ``(H, W)`` uint8 ids
          each on access; ``np.asarray`` gives ``(T_a, H, W)``.
        - gt_mask_frame_indices (np.ndarray): ``(T_a,)`` int64.
        - num_objects (int): ``max id`` of the first annotated mask (255
          counts as 0), the official DAVIS object count.
        - object_ids (list[int]): the ids present in that mask.

    Args:
        with_object_info (bool): Whether to read the first mask for
            ``num_objects``/``object_ids``. Defaults to True.
    """

    def __init__(self, with_object_info: bool = True) -> None:
        self.with_object_info = with_object_info

    def transform(self, results: Dict) -> Dict:
        max_size_gap = results.get('max_size_gap', 2)
        masks = LazyMaskSequence(
            results['mask_paths'],
            results['ori_shape'],
            max_size_gap=max_size_gap,
            binarize=results.get('binarize_masks', False))
        results['gt_masks'] = masks
        results['gt_mask_frame_indices'] = np.asarray(
            results['mask_frame_indices'], dtype=np.int64)
        if self.with_object_info:
            first = masks[0]
            results['num_objects'], results['object_ids'] = \
                first_frame_objects(first, masks.paths[0])
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}('
                f'with_object_info={self.with_object_info})')


@TRANSFORMS.register_module()
class LoadJHMDBKeypoints(BaseTransform):
    """Read JHMDB joint positions as 0-based ``(x, y)`` pixel coordinates.

    ``joint_positions.mat`` holds ``pos_img`` of shape ``(2, J, T_gt)`` in
    1-based MATLAB pixel coordinates; like CRW (``pos_img - 1``) the result
    is 0-based. J is whatever the file holds.

    A video with more frames than ``pos_img`` keeps all its frames (they
    are propagated) while only the first ``T_gt`` are scored, as CRW's
    ``eval_pck.py`` and VFS's ``pck_evaluate`` do; this is logged.

    Required Keys:
        - keypoint_path (str): the ``.mat`` file.
        - num_frames (int): ``T`` frames of the video.

    Added Keys:
        - gt_keypoints (np.ndarray): ``(T_gt, J, 2)`` float32 ``(x, y)``.

    Raises:
        ValueError: If the file cannot be read, has no ``pos_img``, it is
            not ``(2, J, T_gt)``, or ``T_gt`` exceeds the frame count (both
            official evaluations fail there).
    """

    def transform(self, results: Dict) -> Dict:
        path = results['keypoint_path']
        try:
            content = scipy.io.loadmat(path)
        except (OSError, ValueError, TypeError,
                scipy.io.matlab.MatReadError) as error:
            raise ValueError(f'{path}: cannot read the joint positions '
                             f'({error})') from error
        if 'pos_img' not in content:
            raise ValueError(f'{path}: no `pos_img` variable')
        positions = np.asarray(content['pos_img'], dtype=np.float64)
        if positions.ndim != 3 or positions.shape[0] != 2:
            raise ValueError(f'{path}: `pos_img` must be (2, J, T), got '
                             f'{positions.shape}')
        if positions.shape[2] > results['num_frames']:
            raise ValueError(
                f'{path}: `pos_img` has {positions.shape[2]} frames but the '
                f'video has {results["num_frames"]}')
        if positions.shape[2] < results['num_frames']:
            print_log(
                f'{path}: `pos_img` has {positions.shape[2]} frames, the '
                f'video {results["num_frames"]}; only the first '
                f'{positions.shape[2]} are scored, as in CRW and VFS',
                logger='current', level=logging.WARNING)
        results['gt_keypoints'] = np.ascontiguousarray(
            (positions - 1).transpose(2, 1, 0)).astype(np.float32)
        return results


__all__ = [
    'LoadClipFrames', 'LoadVideoFrames', 'LoadVideoAnnotations',
    'LoadJHMDBKeypoints', 'WithholdLastFrame', 'first_frame_objects'
]
