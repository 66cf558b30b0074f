"""How light and camera change a video's appearance over time.

The scene itself (shapes, textures, motion) fixes which pixel shows which
object; an :class:`AppearanceSpec` then changes how every frame looks:
illumination (brightness), contrast, saturation, a hue rotation, defocus
blur and sensor noise, each varying from frame to frame. Matching raw
pixels -- or features that are a fixed function of them, like a randomly
initialised network's -- between frames far apart then fails, while
features that learned to ignore these photometric changes (the colour
jitter, grey-scale and blur augmentations of self-supervised training)
still find the same object. The masks, parts and keypoints do not change.

Per frame ``t`` the clean RGB canvas ``x`` (floats in ``[0, 1]``) becomes,
in this order:

1. hue rotation by ``hue[t]`` turns (a rotation of the chroma plane of
   YIQ, which keeps the luma ``Y``);
2. saturation: ``Y + saturation[t] * (x - Y)``;
3. contrast: ``m + contrast[t] * (x - m)``, ``m`` the frame's mean luma;
4. brightness: ``brightness[t] * x``; then clipped to ``[0, 1]``;
5. Gaussian blur of standard deviation ``blur_sigma[t]`` pixels
   (separable, reflect-padded, radius ``ceil(3 sigma)``; none below
   :data:`MIN_BLUR_SIGMA`);
6. additive Gaussian noise of standard deviation ``noise_std[t]`` drawn
   from ``Generator(PCG64([noise_seed, t]))``; then clipped to ``[0, 1]``.
"""
from dataclasses import dataclass

import numpy as np

#: Blur standard deviations below this (pixels) leave the frame sharp.
MIN_BLUR_SIGMA = 0.3
#: RGB -> YIQ (rows Y, I, Q) and back.
_RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322],
                        [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ)


@dataclass(frozen=True, eq=False)
class AppearanceSpec:
    """Per-frame photometric changes of one video (``T`` frames).

    Attributes:
        brightness, contrast, saturation: ``(T,)`` float factors (1 leaves
            the frame unchanged).
        hue: ``(T,)`` float hue rotation in turns (0 unchanged).
        blur_sigma: ``(T,)`` float blur standard deviation in pixels.
        noise_std: ``(T,)`` float noise standard deviation on the ``[0, 1]``
            scale.
        noise_seed: Seeds each frame's noise with ``[noise_seed, t]``.
    """

    brightness: np.ndarray
    contrast: np.ndarray
    saturation: np.ndarray
    hue: np.ndarray
    blur_sigma: np.ndarray
    noise_std: np.ndarray
    noise_seed: int

    @classmethod
    def unchanged(cls, num_frames: int) -> 'AppearanceSpec':
        """Frames exactly as rendered (no change at all)."""
        ones, zeros = np.ones(num_frames), np.zeros(num_frames)
        return cls(ones, ones, ones, zeros, zeros, zeros, 0)


def _hue_matrix(turns: float) -> np.ndarray:
    """``(3, 3)`` RGB -> RGB matrix rotating the YIQ chroma plane."""
    angle = 2.0 * np.pi * turns
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.array([[1.0, 0.0, 0.0], [0.0, cos, -sin], [0.0, sin, cos]])
    return _YIQ_TO_RGB @ rotation @ _RGB_TO_YIQ


def _luma(image: np.ndarray) -> np.ndarray:
    """``(H, W, 1)`` luma of an ``(H, W, 3)`` RGB image."""
    return image @ _RGB_TO_YIQ[0][:, None]


def _gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of an ``(H, W, 3)`` image (reflect padding)."""
    radius = int(np.ceil(3.0 * sigma))
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (offsets / sigma)**2)
    kernel /= kernel.sum()
    for axis in (0, 1):
        pad = [(0, 0)] * 3
        pad[axis] = (radius, radius)
        padded = np.pad(image, pad, mode='reflect')
        length = image.shape[axis]
        image = sum(weight * np.take(padded, np.arange(i, i + length), axis)
                    for i, weight in enumerate(kernel))
    return image


def apply_appearance(canvas: np.ndarray, appearance: AppearanceSpec,
                     frame_index: int) -> np.ndarray:
    """Change one frame's appearance (see the module doc for the steps).

    Args:
        canvas: ``(H, W, 3)`` float RGB in ``[0, 255]``, the clean frame.
        appearance: The video's changes.
        frame_index: ``t``.

    Returns:
        np.ndarray: ``(H, W, 3)`` float RGB in ``[0, 255]``.
    """
    t = frame_index
    image = canvas / 255.0
    if appearance.hue[t] != 0:
        image = image @ _hue_matrix(appearance.hue[t]).T
    luma = _luma(image)
    image = luma + appearance.saturation[t] * (image - luma)
    mean_luma = float(_luma(image).mean())
    image = mean_luma + appearance.contrast[t] * (image - mean_luma)
    image = np.clip(appearance.brightness[t] * image, 0.0, 1.0)
    if appearance.blur_sigma[t] >= MIN_BLUR_SIGMA:
        image = _gaussian_blur(image, float(appearance.blur_sigma[t]))
    if appearance.noise_std[t] > 0:
        noise = np.random.Generator(np.random.PCG64(
            [appearance.noise_seed, t])).standard_normal(image.shape)
        image = np.clip(image + appearance.noise_std[t] * noise, 0.0, 1.0)
    return 255.0 * image
