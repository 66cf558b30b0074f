"""Normalising video clips and streamed frames on the model's device."""
from typing import Optional, Sequence, Union

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.model import BaseDataPreprocessor

from mmsmtc.ops import resize_to_multiple, rgb_to_lab
from mmsmtc.registry import MODELS

#: Input colour spaces: the decoded RGB, or L*a*b* (Spa-then-Temp / VFS).
COLOR_SPACES = ('rgb', 'lab')


@MODELS.register_module()
class VideoDataPreprocessor(BaseDataPreprocessor):
    """Stack clips into ``(B, T, 3, H, W)`` float and normalise them.

    Inputs are RGB (every mmsmtc loader decodes to RGB); ``mean`` and
    ``std`` are per-channel in RGB order on the 0-255 scale (ImageNet by
    default). Normalisation runs on the model's device, not in data-loader
    workers.

    Training clips (``inputs``: a list of ``B`` uint8 ``(T, 3, H, W)``
    tensors of one size, or one ``(B, T, 3, H, W)`` tensor) are stacked,
    moved, cast and normalised. Test videos (``inputs``: a list of lazy
    frame sequences from ``PackVideoInputs``) are passed through untouched
    for the inference code to stream through :meth:`normalize_frames`.

    With ``color_space='lab'`` (Spa-then-Temp / VFS) frames are first
    converted to CIE L*a*b* as the official ``RGB2LAB``
    (:func:`mmsmtc.ops.rgb_to_lab`: OpenCV's ``COLOR_RGB2Lab`` on float32
    RGB / 255, on the CPU); ``mean`` / ``std`` then apply to L, a, b
    (Spa-then-Temp: ``(50, 0, 0)`` / ``(50, 127, 127)``).

    Args:
        mean (Sequence[float]): RGB means, 0-255 scale (L, a, b means for
            ``color_space='lab'``).
        std (Sequence[float]): RGB standard deviations, 0-255 scale (L, a,
            b for ``'lab'``).
        color_space (str): One of :data:`COLOR_SPACES`.
        size_multiple (int, optional): When set, normalised frames are
            bilinearly resized to the largest multiple of it (see
            :func:`mmsmtc.ops.resize_to_multiple`), logged once per frame size.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 size_multiple: Optional[int] = None,
                 color_space: str = 'rgb') -> None:
        super().__init__()
        if color_space not in COLOR_SPACES:
            raise ValueError(f'color_space must be one of {COLOR_SPACES}, '
                             f'got {color_space!r}')
        self.color_space = color_space
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f'mean and std need 3 values (RGB), std > 0; '
                             f'got mean={mean}, std={std}')
        self.register_buffer(
            'mean', torch.tensor(mean, dtype=torch.float32).view(3, 1, 1),
            persistent=False)
        self.register_buffer(
            'std', torch.tensor(std, dtype=torch.float32).view(3, 1, 1),
            persistent=False)
        self.size_multiple = size_multiple
        self._logged_sizes = set()

    def normalize_frames(
            self, frames: Union[np.ndarray, torch.Tensor]) -> torch.Tensor:
        """Normalise frames on the model's device.

        Args:
            frames: ``(..., 3, H, W)`` tensor, or ``(t, H, W, 3)`` /
                ``(H, W, 3)`` uint8 array as a lazy sequence yields them.

        Returns:
            torch.Tensor: ``(..., 3, H', W')`` float32 on ``self.device``
            (``H' = H`` unless ``size_multiple`` is set).

        Raises:
            ValueError: If the frames do not have 3 channels.
        """
        if isinstance(frames, np.ndarray):
            frames = torch.from_numpy(np.ascontiguousarray(frames))
            frames = frames.movedim(-1, -3)
        if frames.ndim < 3 or frames.shape[-3] != 3:
            raise ValueError(f'frames must be (..., 3, H, W), got shape '
                             f'{tuple(frames.shape)}')
        if self.color_space == 'lab':
            frames = rgb_to_lab(frames)
        frames = frames.to(self.device, non_blocking=True).float()
        frames = (frames - self.mean) / self.std
        if self.size_multiple:
            size = tuple(frames.shape[-2:])
            frames = resize_to_multiple(frames, self.size_multiple)
            if size != tuple(frames.shape[-2:]) and \
                    size not in self._logged_sizes:
                self._logged_sizes.add(size)
                print_log(
                    f'frames of size {size[0]}x{size[1]} resized to '
                    f'{frames.shape[-2]}x{frames.shape[-1]}, a multiple of '
                    f'{self.size_multiple}', logger='current')
        return frames

    def forward(self, data: dict, training: bool = False) -> dict:
        """Stack and normalise clips; pass lazy test videos through.

        Returns:
            dict: ``inputs`` (``(B, T, 3, H, W)`` float32 for clips, the
            list of lazy videos otherwise) and ``data_samples`` on the
            model's device.

        Raises:
            ValueError: If clips of one batch differ in shape.
        """
        inputs = data['inputs']
        data_samples = data.get('data_samples')
        if data_samples is not None:
            data_samples = self.cast_data(data_samples)
        if isinstance(inputs, (list, tuple)) and inputs and \
                not isinstance(inputs[0], torch.Tensor):
            return dict(inputs=list(inputs), data_samples=data_samples)
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(clip.shape) for clip in inputs}
            if len(shapes) != 1:
                raise ValueError(f'clips of one batch must share a shape, '
                                 f'got {sorted(shapes)}')
            inputs = torch.stack(list(inputs))
        if inputs.ndim != 5:
            raise ValueError(f'clips must stack to (B, T, 3, H, W), got '
                             f'{tuple(inputs.shape)}')
        return dict(
            inputs=self.normalize_frames(inputs), data_samples=data_samples)
