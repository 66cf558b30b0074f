"""Lazy frame and mask sequences: one whole video, decoded on demand.

A test sample holds a video as file paths; indexing decodes one frame,
checks its size against the video's and names the file on any error.
Inference code streams ``for frame in frames`` or takes ``frames[a:b]``
chunks, so a long 1080p video never sits in memory several times over.
"""
from pathlib import Path
from typing import Iterator, Sequence, Tuple, Union

import numpy as np

from .frame_io import read_mask, read_rgb_frame

PathLike = Union[str, Path]


class _LazyStack:
    """Indexing, iteration and ``np.asarray`` over items decoded on demand.

    Subclasses set ``paths`` and implement ``shape`` (``(T, *item_shape)``)
    and ``_decode(position) -> np.ndarray`` (one uint8 item).
    """

    paths: list

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple:
        raise NotImplementedError

    def _decode(self, position: int) -> np.ndarray:
        raise NotImplementedError

    def __getitem__(self, index: Union[int, slice, Sequence[int],
                                       np.ndarray]) -> np.ndarray:
        if isinstance(index, slice):
            positions = range(*index.indices(len(self)))
        elif isinstance(index, (list, tuple, np.ndarray)):
            positions = [range(len(self))[int(p)] for p in index]
        else:
            return self._decode(range(len(self))[index])
        if len(positions):
            return np.stack([self._decode(p) for p in positions])
        return np.zeros((0, *self.shape[1:]), np.uint8)

    def __iter__(self) -> Iterator[np.ndarray]:
        for position in range(len(self)):
            yield self._decode(position)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        items = self[:]
        return items if dtype is None else items.astype(dtype)


class LazyFrameSequence(_LazyStack):
    """The RGB frames of a video, decoded one at a time.

    Args:
        paths: The ``T`` frame files, in temporal order.
        frame_shape: ``(H, W)`` every frame must have (the first frame's
            size, read from its header).

    Indexing with an int returns one ``(H, W, 3)`` uint8 RGB frame; with a
    slice or a list/array of ints, a ``(t, H, W, 3)`` uint8 array of the
    selected frames.
    ``np.asarray(sequence)`` decodes all ``T`` frames.
    """

    def __init__(self, paths: Sequence[PathLike],
                 frame_shape: Tuple[int, int]) -> None:
        self.paths = [str(path) for path in paths]
        self.frame_shape = tuple(frame_shape)

    @property
    def shape(self) -> Tuple[int, int, int, int]:
        """``(T, H, W, 3)``, without decoding anything."""
        return (len(self), *self.frame_shape, 3)

    def _decode(self, position: int) -> np.ndarray:
        return self._read_frame(position, self.frame_shape)

    def _read_frame(self, position: int,
                    expected_shape: Tuple[int, int]) -> np.ndarray:
        """Frame ``position`` as stored, ``(H, W, 3)`` uint8 RGB.

        Raises:
            ValueError: If the file is not ``expected_shape`` ``(H, W)``
                (naming the file).
        """
        path = self.paths[position]
        frame = read_rgb_frame(path)
        if frame.shape[:2] != tuple(expected_shape):
            raise ValueError(
                f'{path}: frame size {frame.shape[0]}x{frame.shape[1]} '
                f'differs from the video frame size '
                f'{expected_shape[0]}x{expected_shape[1]}')
        return frame

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_frames={len(self)}, '
                f'frame_shape={self.frame_shape})')


class LazyMaskSequence(_LazyStack):
    """The annotated masks of a video, read one at a time.

    Args:
        paths: The ``T_a`` indexed-PNG files of the annotated frames.
        frame_shape: ``(H, W)`` of the video's frames; small mismatches are
            repaired as documented in
            :func:`mmsmtc.datasets.frame_io.fit_mask_to_frame`.
        max_size_gap: Largest repaired size difference, in pixels.
        binarize: Whether to map every non-zero id to 1 (single-object
            benchmarks: the foreground is the union of the objects; in the
            official DAVIS-2016 layout 255 is foreground, not void).

    Indexing with an int returns one ``(H, W)`` uint8 mask; with a slice or
    a list/array of ints, a ``(t, H, W)`` uint8 array.
    ``np.asarray(sequence)`` reads all of them, shape ``(T_a, H, W)``.
    """

    def __init__(self, paths: Sequence[PathLike], frame_shape: Tuple[int, int],
                 max_size_gap: int = 2, binarize: bool = False) -> None:
        self.paths = [str(path) for path in paths]
        self.frame_shape = tuple(frame_shape)
        self.max_size_gap = max_size_gap
        self.binarize = binarize

    @property
    def shape(self) -> Tuple[int, int, int]:
        """``(T_a, H, W)``, without reading anything."""
        return (len(self), *self.frame_shape)

    def _decode(self, position: int) -> np.ndarray:
        mask = read_mask(self.paths[position], self.frame_shape,
                         self.max_size_gap)
        return (mask > 0).astype(np.uint8) if self.binarize else mask

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_masks={len(self)}, '
                f'frame_shape={self.frame_shape}, binarize={self.binarize})')

