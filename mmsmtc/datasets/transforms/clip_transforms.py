"""Clip-consistent augmentation: one draw of the random parameters per clip.

Every geometric transform applies the same parameters to all ``T`` frames
of ``results['imgs']`` (a list of ``(H, W, 3)`` uint8 RGB arrays), so that
temporal correspondence is preserved. Randomness comes from the global
NumPy RNG, which MMEngine seeds per data-loader worker from the
``randomness=dict(seed=...)`` setting, so seeded runs are reproducible.

The official SMTC loader only resizes each frame to 256x256
(``cv2.INTER_LINEAR``; :class:`ClipResize`); its random crop and flip are
commented out, and its photometric augmentation (grey-scale p 0.2, colour
jitter 0.4/0.4/0.4/0.1 p 0.8, Gaussian blur p 0.5, the same on every
frame) runs on the GPU, drawn separately for the student and the teacher
view: in mmsmtc, the model's ``view_augment``
(:class:`mmsmtc.models.algorithms.ClipPhotometricAugment`, on the device),
the one implementation of photometric augmentation.
"""
import math
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmsmtc.registry import TRANSFORMS


def _check_size(size: Sequence[int]) -> Tuple[int, int]:
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f'size must be (H, W) of positive ints, got {size}')
    return int(size[0]), int(size[1])


@TRANSFORMS.register_module()
class ClipResize(BaseTransform):
    """Resize every frame of a clip to a fixed ``(H, W)``.

    Required Keys:
        - imgs (list[np.ndarray]): ``(H0, W0, 3)`` uint8 frames.

    Modified Keys:
        - imgs: ``(H, W, 3)`` uint8 frames.
        - img_shape: ``(H, W)``.

    Args:
        size (tuple[int, int]): Output ``(H, W)``; SMTC uses (256, 256).

    The official loader resizes ``rgb / 255`` in float; resizing uint8
    (OpenCV's fixed-point bilinear) differs from it by at most one grey
    level (0.75 measured on the DAVIS ``judo`` frames).
    """

    def __init__(self, size: Sequence[int]) -> None:
        self.size = _check_size(size)

    def transform(self, results: Dict) -> Dict:
        height, width = self.size
        results['imgs'] = [
            cv2.resize(img, (width, height), interpolation=cv2.INTER_LINEAR)
            for img in results['imgs']
        ]
        results['img_shape'] = self.size
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(size={self.size})'


@TRANSFORMS.register_module()
class ClipRandomResizedCrop(BaseTransform):
    """Crop the same random box from every frame and resize it.

    The box is drawn as in ``torchvision.transforms.RandomResizedCrop``
    (``max_attempts`` tries of area fraction in ``scale`` and log-uniform
    aspect ratio in ``ratio``, else a central crop), once per clip. With
    ``fallback='centre_square'`` the central crop is mmaction's (VFS /
    Spa-then-Temp ``RandomResizedCrop``, 20 tries there): the largest
    central square, instead of torchvision's central crop clamped to
    ``ratio``. Spa-then-Temp then resizes the crop to 256x256 without
    keeping its ratio; cropping and resizing here is the same.

    Required Keys:
        - imgs (list[np.ndarray]): ``(H0, W0, 3)`` uint8 frames.

    Modified Keys:
        - imgs: ``(H, W, 3)`` uint8 frames.
        - img_shape: ``(H, W)``.

    Added Keys:
        - crop_bbox (np.ndarray): ``(4,)`` int ``x1, y1, x2, y2`` in the
          input frame (exclusive ends).

    Args:
        size (tuple[int, int]): Output ``(H, W)``.
        scale (tuple[float, float]): Range of the crop's area fraction.
        ratio (tuple[float, float]): Range of the crop's width/height.
        max_attempts (int): Tries before the central crop.
        fallback (str): ``'torchvision'`` or ``'centre_square'``.
    """

    def __init__(self,
                 size: Sequence[int],
                 scale: Tuple[float, float] = (0.08, 1.0),
                 ratio: Tuple[float, float] = (3 / 4, 4 / 3),
                 max_attempts: int = 10,
                 fallback: str = 'torchvision') -> None:
        if max_attempts < 1:
            raise ValueError(f'max_attempts must be >= 1, got {max_attempts}')
        if fallback not in ('torchvision', 'centre_square'):
            raise ValueError("fallback must be 'torchvision' or "
                             f"'centre_square', got {fallback!r}")
        self.max_attempts = max_attempts
        self.fallback = fallback
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f'scale must satisfy 0 < low <= high <= 1, got '
                             f'{scale}')
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'ratio must satisfy 0 < low <= high, got '
                             f'{ratio}')
        self.size = _check_size(size)
        self.scale = tuple(scale)
        self.ratio = tuple(ratio)

    def crop_box(self, height: int, width: int) -> np.ndarray:
        """Draw ``x1, y1, x2, y2`` for a ``height x width`` frame."""
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(self.max_attempts):
            target_area = area * np.random.uniform(*self.scale)
            aspect = math.exp(np.random.uniform(*log_ratio))
            crop_w = int(round(math.sqrt(target_area * aspect)))
            crop_h = int(round(math.sqrt(target_area / aspect)))
            if 0 < crop_w <= width and 0 < crop_h <= height:
                top = np.random.randint(0, height - crop_h + 1)
                left = np.random.randint(0, width - crop_w + 1)
                return np.array([left, top, left + crop_w, top + crop_h])
        in_ratio = width / height
        if self.fallback == 'centre_square':
            crop_w = crop_h = min(height, width)
        elif in_ratio < self.ratio[0]:
            crop_w, crop_h = width, int(round(width / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            crop_w, crop_h = int(round(height * self.ratio[1])), height
        else:
            crop_w, crop_h = width, height
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        return np.array([left, top, left + crop_w, top + crop_h])

    def transform(self, results: Dict) -> Dict:
        height, width = results['imgs'][0].shape[:2]
        x1, y1, x2, y2 = self.crop_box(height, width)
        out_h, out_w = self.size
        results['imgs'] = [
            cv2.resize(img[y1:y2, x1:x2], (out_w, out_h),
                       interpolation=cv2.INTER_LINEAR)
            for img in results['imgs']
        ]
        results['crop_bbox'] = np.array([x1, y1, x2, y2])
        results['img_shape'] = self.size
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, '
                f'scale={self.scale}, ratio={self.ratio}, '
                f'max_attempts={self.max_attempts}, '
                f'fallback={self.fallback!r})')


@TRANSFORMS.register_module()
class FrameViews(BaseTransform):
    """Independent random views of one frame, as a clip of views.

    Contrastive image pre-training (MoCo v2) compares two augmentations of
    the same image. The frame (``imgs[0]``, the clip must hold one) is
    cropped and resized by ``crop`` and flipped by ``flip`` anew for each
    of ``num_views`` views (``torchvision.transforms.RandomResizedCrop
    (224, scale=(0.2, 1.))`` and ``RandomHorizontalFlip`` in MoCo v2);
    the photometric part runs on the device (the model's
    ``view_augment``, drawn per view).

    Required Keys:
        - imgs (list[np.ndarray]): one ``(H0, W0, 3)`` uint8 frame.

    Modified Keys:
        - imgs: ``num_views`` ``(H, W, 3)`` uint8 views.
        - img_shape: ``(H, W)``.

    Args:
        crop (dict): :class:`ClipRandomResizedCrop` arguments.
        flip_prob (float): Horizontal flip probability per view.
        num_views (int): Views made.
    """

    def __init__(self, crop: dict, flip_prob: float = 0.5,
                 num_views: int = 2) -> None:
        if num_views < 1:
            raise ValueError(f'num_views must be >= 1, got {num_views}')
        self.crop = ClipRandomResizedCrop(**crop)
        self.flip = ClipRandomFlip(flip_prob)
        self.num_views = num_views

    def transform(self, results: Dict) -> Dict:
        if len(results['imgs']) != 1:
            raise ValueError('FrameViews makes views of one frame, got a '
                             f'clip of {len(results["imgs"])} frames')
        views = []
        for _ in range(self.num_views):
            view = self.flip(self.crop(dict(imgs=list(results['imgs']))))
            views.append(view['imgs'][0])
        results['imgs'] = views
        results['img_shape'] = self.crop.size
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(crop={self.crop!r}, '
                f'flip_prob={self.flip.prob}, num_views={self.num_views})')


@TRANSFORMS.register_module()
class ClipRandomFlip(BaseTransform):
    """Flip every frame of a clip horizontally, or none.

    Required Keys:
        - imgs (list[np.ndarray]): ``(H, W, 3)`` frames.

    Modified Keys:
        - imgs

    Added Keys:
        - flip (bool): whether the clip was flipped.

    Args:
        prob (float): Flip probability.
    """

    def __init__(self, prob: float = 0.5) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must lie in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: Dict) -> Dict:
        flip = bool(np.random.rand() < self.prob)
        if flip:
            results['imgs'] = [
                np.ascontiguousarray(img[:, ::-1]) for img in results['imgs']
            ]
        results['flip'] = flip
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob})'
