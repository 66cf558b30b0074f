"""Helpers writing tiny fixture videos (frames, masks, DAVIS layout)."""

from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmsmtc.utils.palette import write_indexed_png


def video_frames(num_frames: int, size: Tuple[int, int],
                 seed: int = 0) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 frames: a smooth gradient plus a moving
    square, so JPEG keeps them recognisable."""
    height, width = size
    rng = np.random.default_rng(seed)
    base = rng.integers(30, 200, size=3)
    rows = np.linspace(0, 50, height)[:, None, None]
    cols = np.linspace(0, 50, width)[None, :, None]
    frames = []
    for t in range(num_frames):
        frame = np.clip(base + rows + cols, 0, 255).astype(np.uint8)
        top = (2 * t) % max(1, height - 4)
        frame[top:top + 4, 1:5] = (250, 20, 20)
        frames.append(frame)
    return np.stack(frames)


def write_frames(folder: Path, frames: np.ndarray,
                 names: Optional[Sequence[str]] = None,
                 suffix: str = '.jpg') -> list:
    """Write RGB ``frames`` as images named ``names`` (``00000``...)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = names or [f'{t:05d}' for t in range(len(frames))]
    paths = []
    for name, frame in zip(names, frames):
        path = folder / f'{name}{suffix}'
        params = [cv2.IMWRITE_JPEG_QUALITY, 100] if suffix == '.jpg' else []
        cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params)
        paths.append(path)
    return paths


def object_mask(size: Tuple[int, int], ids: Iterable[int]) -> np.ndarray:
    """``(H, W)`` uint8 mask with one vertical band per id."""
    height, width = size
    mask = np.zeros((height, width), np.uint8)
    ids = list(ids)
    for position, object_id in enumerate(ids):
        left = position * width // (len(ids) + 1)
        mask[1:height - 1, left + 1:left + 2] = object_id
    return mask


def make_davis(root: Path,
               videos: Dict[str, int],
               size=(12, 16),
               ids=(1, 2),
               listed: Optional[Sequence[str]] = None,
               annotation_folder: str = 'Annotations') -> Path:
    """A DAVIS-2017 layout with every frame annotated."""
    for seed, (name, num_frames) in enumerate(videos.items()):
        write_frames(root / 'JPEGImages' / '480p' / name,
                     video_frames(num_frames, size, seed))
        for t in range(num_frames):
            write_indexed_png(
                root / annotation_folder / '480p' / name / f'{t:05d}.png',
                object_mask(size, ids))
    for year in ('2016', '2017'):
        image_sets = root / 'ImageSets' / year
        image_sets.mkdir(parents=True, exist_ok=True)
        (image_sets / 'val.txt').write_text(
            '\n'.join(listed if listed is not None else videos) + '\n')
    return root
