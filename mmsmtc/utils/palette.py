"""The DAVIS palette and indexed-PNG reading/writing.

DAVIS, YouTube-VOS and the official evaluation tools store masks as indexed
(mode ``'P'``) PNGs whose pixel values are object ids; the palette only
colours them. The DAVIS palette is the PASCAL VOC bit-interleaved colour map
(id 0 black, 1 dark red, 2 dark green, ...).
"""
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image


def _voc_colour_map(num_colours: int = 256) -> np.ndarray:
    """Return the PASCAL VOC colour map as a ``(num_colours, 3)`` uint8 array."""
    colours = np.zeros((num_colours, 3), dtype=np.uint8)
    for index in range(num_colours):
        red = green = blue = 0
        code = index
        for bit in range(8):
            red |= ((code >> 0) & 1) << (7 - bit)
            green |= ((code >> 1) & 1) << (7 - bit)
            blue |= ((code >> 2) & 1) << (7 - bit)
            code >>= 3
        colours[index] = (red, green, blue)
    return colours


#: ``(256, 3)`` uint8 array: the palette of every DAVIS annotation PNG.
DAVIS_PALETTE = _voc_colour_map()


def read_indexed_png(path: Union[str, Path]) -> np.ndarray:
    """Read an indexed PNG as its palette indices.

    Args:
        path: The PNG file.

    Returns:
        np.ndarray: ``(H, W)`` uint8 array of palette indices (object ids).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file cannot be decoded or is not an indexed
            (mode ``'P'``) or greyscale (mode ``'L'``) image; an RGB PNG
            would silently turn colours into wrong ids.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: mask file does not exist')
    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            array = np.array(image)
    except (OSError, SyntaxError) as error:
        raise ValueError(f'{path}: cannot decode the mask ({error})') from error
    if mode not in ('P', 'L'):
        raise ValueError(
            f'{path}: expected an indexed (palette) PNG of object ids, found '
            f'an image of mode {mode!r}; convert it with '
            '`mmsmtc.utils.write_indexed_png`')
    return array.astype(np.uint8, copy=False)


def write_indexed_png(path: Union[str, Path], ids: np.ndarray) -> None:
    """Write ``(H, W)`` integer ids as an indexed PNG with the DAVIS palette.

    Args:
        path: The output file; parent folders are created.
        ids: ``(H, W)`` array of ids in ``[0, 255]``.

    Raises:
        ValueError: If ``ids`` is not 2-D or holds values outside
            ``[0, 255]``.
    """
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f'{path}: ids must be (H, W), got shape {ids.shape}')
    if ids.size and (ids.min() < 0 or ids.max() > 255):
        raise ValueError(f'{path}: ids must lie in [0, 255], got '
                         f'[{ids.min()}, {ids.max()}]')
    image = Image.fromarray(ids.astype(np.uint8), mode='P')
    image.putpalette(DAVIS_PALETTE.reshape(-1).tolist())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
