"""A user's video (mp4/avi file or frame folder) as lazy frames, and the
overlay video written from predictions.

Inference code reads ``frames[a:b]`` chunks or iterates the frames, so a
long 1080p video is decoded one frame at a time and never held in memory.
"""
from pathlib import Path
from typing import Iterable, List, Optional, Tuple, Union

import cv2
import numpy as np
from mmengine.logging import print_log

from mmsmtc.datasets.frame_io import read_frame_size
from mmsmtc.datasets.lazy_sequence import LazyFrameSequence

PathLike = Union[str, Path]
#: File endings of the frames of a frame folder.
FRAME_SUFFIXES = ('.jpg', '.jpeg', '.png')
#: Frame rate of the overlay video of a frame folder.
DEFAULT_FPS = 24.0


def fit_shape(shape: Tuple[int, int],
              max_side: Optional[int]) -> Tuple[int, int]:
    """``(H, W)`` shrunk (aspect ratio kept) so that no side exceeds
    ``max_side``; unchanged when it already fits or ``max_side`` is None."""
    if max_side is None or max(shape) <= max_side:
        return tuple(shape)
    if max_side < 1:
        raise ValueError(f'max_side must be >= 1, got {max_side}')
    scale = max_side / max(shape)
    return (max(1, round(shape[0] * scale)), max(1, round(shape[1] * scale)))


def _resize(frame: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """``(H, W, 3)`` frame resized to ``shape`` (area interpolation)."""
    if frame.shape[:2] == tuple(shape):
        return frame
    return cv2.resize(frame, (shape[1], shape[0]),
                      interpolation=cv2.INTER_AREA)


class FrameFolderSequence(LazyFrameSequence):
    """Frames of image files, decoded (and downscaled) one at a time.

    Args:
        paths: The ``T`` frame files, in temporal order.
        source_shape: ``(H, W)`` every file must have.
        frame_shape: ``(H', W')`` of the returned frames.
    """

    def __init__(self, paths: List[PathLike], source_shape: Tuple[int, int],
                 frame_shape: Tuple[int, int]) -> None:
        super().__init__(paths, frame_shape)
        self.source_shape = tuple(source_shape)

    def _decode(self, position: int) -> np.ndarray:
        return _resize(self._read_frame(position, self.source_shape),
                       self.frame_shape)


class VideoFileSequence(LazyFrameSequence):
    """Frames of a video file, decoded with OpenCV on access.

    One ``cv2.VideoCapture`` stays open; reading forwards skips frames
    with ``grab()``, reading backwards reopens the file (frame-exact, unlike
    seeking with ``CAP_PROP_POS_FRAMES`` in compressed streams).

    Args:
        path: The video file.
        num_frames: ``T``, counted by :func:`count_video_frames`.
        source_shape: ``(H, W)`` of the decoded frames.
        frame_shape: ``(H', W')`` of the returned frames.
    """

    def __init__(self, path: PathLike, num_frames: int,
                 source_shape: Tuple[int, int],
                 frame_shape: Tuple[int, int]) -> None:
        super().__init__([], frame_shape)
        self.path = str(path)
        self.num_frames = num_frames
        self.source_shape = tuple(source_shape)
        self._capture = None
        self._next_position = 0

    def __len__(self) -> int:
        return self.num_frames

    def _decode(self, position: int) -> np.ndarray:
        if self._capture is None or position < self._next_position:
            self.close()
            self._capture = cv2.VideoCapture(self.path)
        while self._next_position < position:
            if not self._capture.grab():
                raise ValueError(f'{self.path}: the video ends before frame '
                                 f'{position}')
            self._next_position += 1
        success, frame = self._capture.read()
        if not success:
            raise ValueError(f'{self.path}: cannot decode frame {position}')
        self._next_position += 1
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        return _resize(frame, self.frame_shape)

    def close(self) -> None:
        """Release the capture (reopened on the next access)."""
        if self._capture is not None:
            self._capture.release()
        self._capture = None
        self._next_position = 0

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.path!r}, num_frames='
                f'{len(self)}, frame_shape={self.frame_shape})')


def count_video_frames(path: PathLike,
                       max_frames: Optional[int] = None
                       ) -> Tuple[int, Tuple[int, int], float]:
    """Frame count, ``(H, W)`` and frame rate of a video file.

    The frames are counted by reading through the file (the container's
    frame count is often wrong), stopping at ``max_frames``.

    Raises:
        ValueError: If OpenCV cannot open the file or decode a frame.
    """
    capture = cv2.VideoCapture(str(path))
    try:
        success, first = capture.read() if capture.isOpened() else (False,
                                                                   None)
        if not success:
            raise ValueError(f'{path}: not a readable video (OpenCV cannot '
                             'open it or decode its first frame)')
        fps = capture.get(cv2.CAP_PROP_FPS)
        count = 1
        while (max_frames is None or count < max_frames) and capture.grab():
            count += 1
    finally:
        capture.release()
    return count, first.shape[:2], fps if fps > 0 else DEFAULT_FPS


def video_name_from_path(path: PathLike) -> str:
    """A video's name: the file stem, the folder name, or for a DAVIS-style
    ``<video>/JPEGImages`` folder the ``<video>`` name."""
    path = Path(path).resolve()
    if path.name == 'JPEGImages' and path.parent.name:
        return path.parent.name
    return path.stem if path.is_file() else path.name


def _folder_frames(folder: Path) -> List[Path]:
    paths = sorted(path for path in folder.iterdir()
                   if path.suffix.lower() in FRAME_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f'{folder}: the frame folder holds no '
                                f'{"/".join(FRAME_SUFFIXES)} frames')
    return paths


def open_video(path: PathLike,
               max_frames: Optional[int] = None,
               max_side: Optional[int] = None
               ) -> Tuple[LazyFrameSequence, List[str], float]:
    """Open a video file or a folder of frames as lazy frames.

    Args:
        path: An mp4/avi (any file OpenCV decodes) or a folder of
            jpg/png frames, sorted by file name.
        max_frames: Keep only the first ``max_frames`` frames.
        max_side: Downscale frames (aspect ratio kept) so that no side
            exceeds this many pixels.

    Returns:
        tuple: ``frames`` (``(T, H, W, 3)`` uint8 RGB on indexing, with
        ``source_shape`` the size on disk), the ``T`` frame names (file
        stems, or ``'00000'``... for a video file) and the frame rate.

    Raises:
        FileNotFoundError: If ``path`` does not exist or the folder holds
            no frames.
        ValueError: If the video file cannot be decoded.
    """
    path = Path(path)
    if max_frames is not None and max_frames < 1:
        raise ValueError(f'max_frames must be >= 1, got {max_frames}')
    if path.is_dir():
        paths = _folder_frames(path)[:max_frames]
        source_shape = read_frame_size(paths[0])
        frames = FrameFolderSequence(paths, source_shape,
                                     fit_shape(source_shape, max_side))
        return frames, [p.stem for p in paths], DEFAULT_FPS
    if not path.is_file():
        raise FileNotFoundError(f'{path}: video file or frame folder does '
                                'not exist')
    num_frames, source_shape, fps = count_video_frames(path, max_frames)
    frames = VideoFileSequence(path, num_frames, source_shape,
                               fit_shape(source_shape, max_side))
    return frames, [f'{index:05d}' for index in range(num_frames)], fps


def write_overlay_video(path: PathLike, images: Iterable[np.ndarray],
                        names: Iterable[str], fps: float,
                        fourcc: str = 'mp4v') -> Path:
    """Write RGB frames as a video, or as PNG frames without the codec.

    Frames are written as they come (nothing is kept). If OpenCV cannot
    open a ``fourcc`` writer for ``path``, a warning is logged and the
    frames go to the folder ``path`` without its suffix as
    ``<name>.png``.

    Args:
        path: The video file, e.g. ``out/overlay.mp4``.
        images: ``(H, W, 3)`` uint8 RGB frames of one size.
        names: One name per frame (for the PNG fallback).
        fps: Frame rate.
        fourcc: The four-character codec code.

    Returns:
        Path: The video file, or the PNG folder.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer, target = None, path
    try:
        for image, name in zip(images, names):
            if writer is None and target == path:
                height, width = image.shape[:2]
                writer = cv2.VideoWriter(str(path),
                                         cv2.VideoWriter_fourcc(*fourcc),
                                         fps, (width, height))
                if not writer.isOpened():
                    writer = None
                    target = path.with_suffix('')
                    target.mkdir(parents=True, exist_ok=True)
                    print_log(f'{path}: OpenCV has no {fourcc!r} video '
                              f'writer here; writing PNG frames to '
                              f'{target} instead', logger='current',
                              level=30)
            if writer is not None:
                writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            else:
                cv2.imwrite(str(target / f'{name}.png'),
                            cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    finally:
        if writer is not None:
            writer.release()
    return target
