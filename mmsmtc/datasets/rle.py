"""Decoding COCO-style run-length encoded masks (YouTube-VIS, COCO).

A mask of ``H x W`` is read in column-major (Fortran) order as runs of
alternating 0s and 1s, starting with 0s. ``counts`` is either the list of
run lengths (uncompressed RLE) or a string (compressed RLE, pycocotools'
``rleToString``): each run length is stored as 5-bit groups in characters
``48 + group`` (bit 5 = more groups follow, bit 4 of the last group = sign),
and from the fourth run on as the difference to the run two places
before.
"""
from typing import List, Sequence, Union

import numpy as np


def decode_compressed_counts(text: Union[str, bytes]) -> List[int]:
    """Run lengths of a compressed RLE string.

    Raises:
        ValueError: If the string ends inside a number or gives a negative
            run length.
    """
    if isinstance(text, bytes):
        text = text.decode('ascii')
    counts: List[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            if position == len(text):
                raise ValueError('compressed RLE ends inside a number')
            group = ord(text[position]) - 48
            if not 0 <= group < 64:
                raise ValueError(f'invalid character {text[position]!r} in '
                                 'compressed RLE')
            value |= (group & 0x1f) << shift
            more = bool(group & 0x20)
            position += 1
            shift += 5
            if not more and group & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        if value < 0:
            raise ValueError(f'negative run length {value} in compressed RLE')
        counts.append(value)
    return counts


def decode_rle(counts: Union[str, bytes, Sequence[int]],
               size: Sequence[int]) -> np.ndarray:
    """Decode one RLE mask.

    Args:
        counts: Run lengths, or a compressed RLE string.
        size: ``(H, W)``.

    Returns:
        np.ndarray: ``(H, W)`` uint8 mask of 0 and 1.

    Raises:
        ValueError: If the runs do not cover exactly ``H * W`` pixels or a
            run length is negative.
    """
    height, width = (int(value) for value in size)
    runs = decode_compressed_counts(counts) if isinstance(
        counts, (str, bytes)) else [int(value) for value in counts]
    if any(run < 0 for run in runs):
        raise ValueError('RLE run lengths must be >= 0')
    if sum(runs) != height * width:
        raise ValueError(f'RLE runs cover {sum(runs)} pixels, the mask '
                         f'{height}x{width} has {height * width}')
    values = np.arange(len(runs), dtype=np.int64) % 2
    flat = np.repeat(values.astype(np.uint8), runs)
    return flat.reshape(width, height).T.copy()
