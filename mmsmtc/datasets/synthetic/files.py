"""Byte-reproducible file writers: images, MATLAB files and list files.

Everything written here depends only on its inputs (no timestamps, no
platform names), so regenerating a set gives identical bytes.
"""
import io
from pathlib import Path
from typing import Dict, Iterable, Union

import numpy as np
import scipy.io
from PIL import Image

#: JPEG quality of the frames (libjpeg scale); chroma is not subsampled
#: (4:4:4) so that colours stay put at the exact object edges.
JPEG_QUALITY = 95

#: The fixed description written into every MAT-file header (scipy writes
#: the platform and the creation time there, which breaks byte identity).
MAT_HEADER_TEXT = b'MATLAB 5.0 MAT-file, written by mmsmtc.datasets.synthetic'

_MAT_DESCRIPTION_BYTES = 116


def write_rgb_image(path: Union[str, Path], rgb: np.ndarray) -> None:
    """Write an ``(H, W, 3)`` uint8 RGB image; the format follows the
    suffix (``.jpg`` at :data:`JPEG_QUALITY` with 4:4:4 chroma, or
    ``.png``). Parent folders are created."""
    path = Path(path)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f'{path}: expected an (H, W, 3) uint8 image, got '
                         f'{rgb.dtype} of shape {rgb.shape}')
    path.parent.mkdir(parents=True, exist_ok=True)
    options = ({
        'quality': JPEG_QUALITY,
        'subsampling': 0
    } if path.suffix == '.jpg' else {})
    Image.fromarray(rgb, mode='RGB').save(path, **options)


def write_mat_file(path: Union[str, Path], variables: Dict[str,
                                                           object]) -> None:
    """Write a MATLAB 5 file like :func:`scipy.io.savemat`, with the
    header description replaced by :data:`MAT_HEADER_TEXT`.

    Args:
        path: The ``.mat`` file; parent folders are created.
        variables: Variable names to arrays (as accepted by ``savemat``).
    """
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables, format='5', do_compression=False)
    content = bytearray(buffer.getvalue())
    if not content.startswith(b'MATLAB 5.0'):
        raise RuntimeError(f'{path}: scipy.io.savemat wrote an unexpected '
                           'header; cannot make it reproducible')
    content[:_MAT_DESCRIPTION_BYTES] = MAT_HEADER_TEXT.ljust(
        _MAT_DESCRIPTION_BYTES, b' ')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(content))


def write_lines(path: Union[str, Path], lines: Iterable[str]) -> None:
    """Write one entry per line with ``\\n`` endings (an empty file for no
    lines); parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', encoding='utf-8', newline='\n') as file:
        file.writelines(f'{line}\n' for line in lines)
