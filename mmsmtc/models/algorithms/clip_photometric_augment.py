"""Per-branch photometric augmentation of normalised clips (SMTC aug_gpu)."""
import math
from typing import Sequence, Tuple

import torch
import torchvision.transforms.v2.functional as TF
from torch import nn

from mmsmtc.registry import MODELS


@MODELS.register_module()
class ClipPhotometricAugment(nn.Module):
    """The official ``Augment_GPU_pre`` on already normalised clips.

    Official SMTC draws this augmentation twice per batch, once for the
    student's input and once for the teacher's, on the GPU; this module is
    that draw for one branch (``SMTC(view_augment=...)``). Per clip, the
    same on every frame (``same_on_frame=True``), in order:

    1. grayscale with probability ``grayscale_prob`` (0.2);
    2. with probability ``jitter_prob`` (0.8) brightness, contrast and
       saturation factors uniform in ``[1 - j, 1 + j]`` (0.4) and a hue
       shift uniform in ``[-h, h]`` (0.1), applied in a random order;
    3. with probability ``blur_prob`` (0.5) a Gaussian blur with kernel
       side ``int(0.1 * side) // 2 * 2 + 1`` and sigma uniform in
       ``blur_sigma`` (the official code draws sigma once per run; here it
       is drawn per clip).

    The blur is torchvision's ``gaussian_blur`` (reflect padding, the
    normalised 1-D kernel ``softmax(-(x / sigma)^2)`` on ``x`` spaced by
    ``1 / sqrt(2)``, 2-D kernel the outer product) computed as two matrix
    products, ``blur_h^T @ frame @ blur_w``, whose ``(side, side)``
    matrices hold the 1-D kernel with the reflection folded in: the same
    weighted sums as the 2-D convolution (equal to float32 rounding,
    about 1e-7) at a fraction of its cost on the CPU (``2 * side`` instead
    of ``kernel_side^2`` multiply-adds per pixel).

    The input is de-normalised with ``mean``/``std`` (those of the data
    preprocessor, 0-255 scale), augmented in ``[0, 1]`` and normalised
    again. Randomness comes from ``torch``'s generator (seeded by the
    runner).

    Args:
        mean, std (Sequence[float]): RGB normalisation of the inputs.
        grayscale_prob (float): Defaults to 0.2.
        jitter (tuple[float, float, float, float]): brightness, contrast,
            saturation and hue strengths. Defaults to (0.4, 0.4, 0.4, 0.1).
        jitter_prob (float): Defaults to 0.8.
        blur_prob (float): Defaults to 0.5.
        blur_sigma (tuple[float, float]): Defaults to (0.1, 2.0).
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 grayscale_prob: float = 0.2,
                 jitter: Tuple[float, float, float,
                               float] = (0.4, 0.4, 0.4, 0.1),
                 jitter_prob: float = 0.8,
                 blur_prob: float = 0.5,
                 blur_sigma: Tuple[float, float] = (0.1, 2.0)):
        super().__init__()
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError('mean and std need 3 values (RGB), std > 0; got '
                             f'mean={mean}, std={std}')
        if len(jitter) != 4 or not 0 <= jitter[3] <= 0.5:
            raise ValueError('jitter must be (brightness, contrast, '
                             f'saturation, hue) with hue <= 0.5, got {jitter}')
        self.register_buffer('mean',
                             torch.tensor(mean).view(3, 1, 1) / 255,
                             persistent=False)
        self.register_buffer('std',
                             torch.tensor(std).view(3, 1, 1) / 255,
                             persistent=False)
        self.grayscale_prob = grayscale_prob
        self.jitter = tuple(jitter)
        self.jitter_prob = jitter_prob
        self.blur_prob = blur_prob
        self.blur_sigma = tuple(blur_sigma)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """Augment ``(B, T, 3, H, W)`` normalised clips; same shape out."""
        if clips.dim() != 5 or clips.shape[2] != 3:
            raise ValueError('ClipPhotometricAugment expects (B, T, 3, H, W)'
                             f' clips, got {tuple(clips.shape)}')
        images = (clips * self.std).add_(self.mean).clamp_(0, 1)
        images = torch.stack([self._augment_clip(clip) for clip in images])
        return images.sub_(self.mean).div_(self.std)

    def _chance(self, prob: float) -> bool:
        return bool(torch.rand(()) < prob)

    def _uniform(self, low: float, high: float) -> float:
        return float(torch.empty(()).uniform_(low, high))

    def _augment_clip(self, clip: torch.Tensor) -> torch.Tensor:
        """One ``(T, 3, H, W)`` clip in ``[0, 1]``, one draw for all frames."""
        if self._chance(self.grayscale_prob):
            clip = TF.rgb_to_grayscale(clip, num_output_channels=3)
        if self._chance(self.jitter_prob):
            clip = self._jitter(clip)
        if self._chance(self.blur_prob):
            clip = gaussian_blur(clip, self._uniform(*self.blur_sigma))
        return clip

    def _jitter(self, clip: torch.Tensor) -> torch.Tensor:
        brightness, contrast, saturation, hue = self.jitter
        ops = [
            (TF.adjust_brightness, self._uniform(1 - brightness,
                                                 1 + brightness)),
            (TF.adjust_contrast, self._uniform(1 - contrast, 1 + contrast)),
            (TF.adjust_saturation, self._uniform(1 - saturation,
                                                 1 + saturation)),
            (TF.adjust_hue, self._uniform(-hue, hue)),
        ]
        for index in torch.randperm(len(ops)).tolist():
            operation, factor = ops[index]
            clip = operation(clip, factor)
        return clip


def blur_kernel_side(side: int) -> int:
    """Official kernel side for an image side: ``int(0.1 * side) // 2 * 2 + 1``
    (25 at 256)."""
    return int(0.1 * side) // 2 * 2 + 1


def gaussian_blur_matrix(side: int, sigma: float, dtype: torch.dtype,
                         device: torch.device) -> torch.Tensor:
    """The 1-D Gaussian blur along one axis of ``side`` pixels as a matrix.

    Kernel of :func:`blur_kernel_side` taps, weights
    ``softmax(-(x / sigma)^2)`` at ``x = linspace(-lim, lim)`` with
    ``lim = (taps - 1) / (2 * sqrt(2))`` (torchvision's), reflect padding
    folded in: a tap that falls outside the axis adds its weight to the
    reflected pixel.

    Returns:
        Tensor: ``(side, side)`` matrix ``M``; ``signal @ M`` blurs the
        last axis of ``signal``, ``M[source, target]`` is the weight of
        pixel ``source`` in the blurred pixel ``target``.
    """
    taps = blur_kernel_side(side)
    radius = taps // 2
    if radius >= side:
        raise ValueError(f'a blur of {taps} taps needs a side above {radius}'
                         f' for reflect padding, got {side}')
    limit = (taps - 1) / (2.0 * math.sqrt(2.0))
    positions = torch.linspace(-limit, limit, taps, dtype=dtype,
                               device=device)
    weights = torch.softmax(positions.div(sigma).pow(2).neg(), dim=0)
    targets = torch.arange(side, device=device)
    sources = targets[:, None] + torch.arange(-radius, radius + 1,
                                              device=device)
    sources = sources.abs()
    sources = torch.where(sources > side - 1, 2 * (side - 1) - sources,
                          sources)
    matrix = torch.zeros(side, side, dtype=dtype, device=device)
    matrix.index_put_((sources, targets[:, None].expand_as(sources)),
                      weights.expand_as(sources),
                      accumulate=True)
    return matrix


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur ``(..., H, W)`` images with the official kernel sides and
    ``sigma`` on both axes (torchvision's ``gaussian_blur`` to float32
    rounding); same shape out."""
    height, width = images.shape[-2:]
    along_width = gaussian_blur_matrix(width, sigma, images.dtype,
                                       images.device)
    along_height = gaussian_blur_matrix(height, sigma, images.dtype,
                                        images.device)
    return torch.matmul(along_height.t(), torch.matmul(images, along_width))
