"""Listing the frames of a video folder and reading sequence lists."""
from pathlib import Path
from typing import List, Sequence, Union

PathLike = Union[str, Path]

FRAME_SUFFIXES = ('.jpg', '.jpeg', '.png')


def sort_frame_files(paths: Sequence[Path]) -> List[Path]:
    """Sort frame files by frame number when every stem is an integer
    (``'9.png'`` before ``'10.png'``), by name otherwise."""
    paths = list(paths)
    if paths and all(path.stem.isdigit() for path in paths):
        return sorted(paths, key=lambda path: (int(path.stem), path.name))
    return sorted(paths, key=lambda path: path.name)


def list_frame_files(folder: PathLike,
                     suffixes: Sequence[str] = FRAME_SUFFIXES) -> List[Path]:
    """The image files of ``folder`` with one of ``suffixes``, in order.

    Raises:
        FileNotFoundError: If ``folder`` does not exist.
        ValueError: If it holds no such file (an empty sequence).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f'{folder}: sequence folder does not exist')
    suffixes = tuple(suffix.lower() for suffix in suffixes)
    files = [path for path in folder.iterdir()
             if path.is_file() and path.suffix.lower() in suffixes]
    if not files:
        raise ValueError(f'{folder}: empty sequence, no file ending in '
                         f'{"/".join(suffixes)}')
    return sort_frame_files(files)


def read_sequence_list(path: PathLike) -> List[str]:
    """Read the sequence names of a split file, in file order, once each.

    Each non-empty line names a sequence by its first token: either the bare
    name (``bike-packing``, DAVIS-2017 ``ImageSets``) or a frame path whose
    parent folder is the sequence (``/JPEGImages/480p/bear/00000.jpg ...``,
    the official DAVIS-2016 ``ImageSets/480p/val.txt``).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If it names no sequence.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: sequence list does not exist')
    names: List[str] = []
    for line in path.read_text().splitlines():
        tokens = line.split()
        if not tokens:
            continue
        token = tokens[0].strip('/')
        name = token.split('/')[-2] if '/' in token else token
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError(f'{path}: sequence list names no sequence')
    return names
