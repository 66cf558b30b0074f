"""Animated GIFs from folders of PNG frames (e.g. ``--show-dir`` overlays).

Each frame is quantised to its own 256-colour palette, so overlays keep
their DAVIS-palette colours; the GIF loops forever.
"""
from pathlib import Path
from typing import List, Optional, Union

from PIL import Image

PathLike = Union[str, Path]


def _frame_paths(frame_dir: Path) -> List[Path]:
    if not frame_dir.is_dir():
        raise FileNotFoundError(f'{frame_dir}: no such frame folder')
    paths = sorted(frame_dir.glob('*.png'))
    if not paths:
        raise ValueError(f'{frame_dir}: holds no .png frames')
    return paths


def _palette_frame(path: Path, size) -> Image.Image:
    with Image.open(path) as image:
        rgb = image.convert('RGB')
    if size is not None and rgb.size != size:
        raise ValueError(f'{path}: frame size {rgb.size[1]}x{rgb.size[0]} '
                         f'differs from the first frame\'s '
                         f'{size[1]}x{size[0]}')
    return rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT)


def write_gif(frame_dir: PathLike,
              out_path: Optional[PathLike] = None,
              fps: float = 8.0) -> Path:
    """Write the ``.png`` frames of a folder, in name order, as a GIF.

    Args:
        frame_dir: A folder of equally sized ``(H, W)`` PNG frames.
        out_path: The GIF file; default ``<frame_dir>.gif`` next to the
            folder.
        fps: Frames per second (GIF timing is in 10 ms steps).

    Returns:
        Path: The GIF written.

    Raises:
        FileNotFoundError: If ``frame_dir`` is not a folder.
        ValueError: If it has no PNG, the frames differ in size, or
            ``fps`` is not positive.
    """
    if not fps > 0:
        raise ValueError(f'fps must be positive, got {fps}')
    frame_dir = Path(frame_dir)
    paths = _frame_paths(frame_dir)
    out_path = Path(out_path) if out_path is not None else \
        frame_dir.with_name(frame_dir.name + '.gif')
    first = _palette_frame(paths[0], None)
    size = first.size
    rest = [_palette_frame(path, size) for path in paths[1:]]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    first.save(
        out_path,
        format='GIF',
        save_all=True,
        append_images=rest,
        duration=max(10, round(1000 / fps)),
        loop=0,
        disposal=1)
    return out_path


def write_folder_gifs(root: PathLike, fps: float = 8.0) -> List[Path]:
    """One GIF per folder of PNG frames under ``root``, beside the folder.

    Args:
        root: A folder of ``<video>/<frame>.png`` folders (the layout of
            ``tools/test.py --show-dir``); video names may hold a ``/``
            (JHMDB's ``<class>/<video>``): every folder holding PNGs, at
            any depth, is one video.
        fps: Frames per second.

    Returns:
        list[Path]: The GIFs, in video-name order.

    Raises:
        FileNotFoundError: If ``root`` is not a folder.
        ValueError: If no folder under it holds a PNG.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f'{root}: no such overlay folder')
    videos = sorted({path.parent for path in root.rglob('*.png')} - {root})
    if not videos:
        raise ValueError(f'{root}: holds no <video>/<frame>.png folders')
    return [write_gif(video, fps=fps) for video in videos]
