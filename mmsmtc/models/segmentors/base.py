"""The base of mmsmtc's test-time video segmentors."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModel
from torch import nn

from mmsmtc.ops import floor_to_multiple, resize_frames
from mmsmtc.structures import VideoDataSample, video_name
from mmsmtc.utils.checkpoint import (CheckpointError, read_state_dict,
                                     select_prefix)
from ..utils import load_strict, video_generator


class BaseVideoSegmentor(BaseModel):
    """A test-time model over one whole video per sample.

    Subclasses implement ``predict(inputs, data_samples)`` (``B`` lazy
    videos: indexing a video with frame indices decodes ``(t, H, W, 3)``
    uint8 frames) and :meth:`checkpoint_target`. Shared here:

    - ``forward`` accepts ``mode='predict'`` only;
    - :meth:`read_frames`: decode frames, normalise them on the model's
      device (the data preprocessor's ``normalize_frames``) and resize them
      to :meth:`frame_size` -- ``input_size``, or the largest multiple of
      the model's stride;
    - :meth:`video_generator`: test-time randomness per video, from
      ``(test_seed, video name)``, so a video's numbers do not depend on the
      order of the videos, the number of processes or the device;
    - :meth:`load_test_checkpoint`: strict loading of a trained checkpoint
      into :meth:`checkpoint_target` from under ``checkpoint_prefix``.

    Args:
        checkpoint_prefix (str | Sequence[str]): Key prefix of the tested
            weights in a checkpoint file, e.g. ``'teacher.'`` for the EMA
            teacher of an SMTC training checkpoint. Several prefixes are
            tried in order; the first under which the file holds entries is
            used.
        input_size (tuple[int, int], optional): Resize frames to this
            ``(H, W)``; None resizes to the largest multiple of the stride.
        test_seed (int): Seed of the per-video test-time randomness.
        data_preprocessor (dict, optional): Defaults to a
            ``VideoDataPreprocessor``.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self,
                 checkpoint_prefix: Union[str, Sequence[str]] = '',
                 input_size: Optional[Sequence[int]] = None,
                 test_seed: int = 0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor or dict(
                type='VideoDataPreprocessor'),
            init_cfg=init_cfg)
        prefixes = (checkpoint_prefix, ) if isinstance(
            checkpoint_prefix, str) else checkpoint_prefix
        if not isinstance(prefixes, (list, tuple)) or not prefixes or \
                not all(isinstance(prefix, str) for prefix in prefixes):
            raise ValueError('checkpoint_prefix must be a string or a '
                             f'sequence of strings, got {checkpoint_prefix!r}')
        self.checkpoint_prefixes = tuple(prefixes)
        if input_size is not None and (len(input_size) != 2
                                       or min(input_size) < 1):
            raise ValueError('input_size must be (H, W) with H, W >= 1, got '
                             f'{input_size!r}')
        self.input_size = None if input_size is None else tuple(input_size)
        self.test_seed = int(test_seed)

    def forward(self,
                inputs: list,
                data_samples: Optional[List[VideoDataSample]] = None,
                mode: str = 'predict'):
        """Dispatch to ``predict``; any other mode is an error."""
        if mode != 'predict':
            raise ValueError(f'{type(self).__name__} is test-only: mode must '
                             f"be 'predict', got {mode!r}")
        return self.predict(inputs, data_samples)

    # ------------------------------------------------------------------
    # frames
    def frame_size(self, frames, multiple: int,
                   sample: VideoDataSample) -> Tuple[int, int]:
        """The ``(H, W)`` frames are resized to before the model.

        Args:
            frames: A lazy video (``frames.shape[1:3]`` is ``(H, W)``).
            multiple: The model's stride (patch size or map scale).
            sample: The video's sample, for messages.

        Raises:
            ValueError: Naming the video, if its frames are smaller than
                ``multiple``.
        """
        if self.input_size is not None:
            return self.input_size
        height, width = frames.shape[1:3]
        try:
            return floor_to_multiple(height, width, multiple)
        except ValueError as error:
            raise ValueError(f'{video_name(sample)}: {error}') from error

    def read_frames(self, frames, indices, size: Sequence[int]
                    ) -> torch.Tensor:
        """``(t, 3, H', W')`` normalised frames ``indices`` at ``size``.

        Args:
            frames: A lazy video.
            indices: A slice or a list of frame indices.
            size: ``(H', W')``, e.g. :meth:`frame_size`.
        """
        batch = self.data_preprocessor.normalize_frames(frames[indices])
        return resize_frames(batch, size)

    def video_generator(self, sample: VideoDataSample) -> torch.Generator:
        """The CPU generator of this video's test-time random numbers."""
        return video_generator(self.test_seed, video_name(sample))

    # ------------------------------------------------------------------
    # checkpoints
    def checkpoint_target(self) -> Tuple[nn.Module, str]:
        """The module a test checkpoint fills and what it is, for messages
        (subclass)."""
        raise NotImplementedError

    def load_test_checkpoint(self, path: str) -> None:
        """Load the tested weights of a trained checkpoint, strictly.

        The weights under the first of ``checkpoint_prefix`` that the file
        has fill :meth:`checkpoint_target`; every tensor of it must be
        there with its shape, other entries are logged and ignored.

        Raises:
            CheckpointError: If the file cannot be read, or its weights do
                not fit (names the file and the mismatching tensors).
        """
        state = read_state_dict(path)
        selected = {}
        for prefix in self.checkpoint_prefixes:
            selected = select_prefix(state, prefix)
            if selected:
                break
        else:
            raise CheckpointError(
                f'{path}: has no weights under the prefixes '
                f'{list(self.checkpoint_prefixes)} (checkpoint_prefix); its '
                f'keys start like {sorted(state)[:3]}')
        module, what = self.checkpoint_target()
        load_strict(module, selected, path, what)
