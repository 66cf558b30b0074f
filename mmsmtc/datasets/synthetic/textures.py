"""Two-colour procedural textures evaluated at continuous coordinates.

A texture maps coordinates ``(u, v)`` to a mixing weight ``w`` in
``[0, 1]`` and blends its two colours as ``(1 - w) * c0 + w * c1``. The
coordinates are object-local for objects (so the texture moves, turns and
scales with its object) and drifting frame coordinates for the background.

Kinds:

- ``'noise'``: smooth value noise, a periodic random grid sampled with
  smoothstep-weighted bilinear interpolation.
- ``'stripes'``: sharpened sine stripes along ``orientation``.
- ``'checkers'``: a checkerboard rotated by ``orientation``.
"""
from dataclasses import dataclass

import numpy as np

#: The texture kinds.
TEXTURE_KINDS = ('noise', 'stripes', 'checkers')


@dataclass(frozen=True, eq=False)
class TextureSpec:
    """A two-colour texture.

    Attributes:
        kind: One of :data:`TEXTURE_KINDS`.
        colours: ``(2, 3)`` float RGB colours in ``[0, 255]``.
        frequency: Pattern cycles per coordinate unit.
        orientation: Pattern angle in radians (stripes, checkers).
        noise_grid: ``(G, G)`` float values in ``[0, 1]`` (noise only;
            periodic with period ``G`` cells).
    """

    kind: str
    colours: np.ndarray
    frequency: float
    orientation: float
    noise_grid: np.ndarray

    def __post_init__(self):
        if self.kind not in TEXTURE_KINDS:
            raise ValueError(f'unknown texture kind {self.kind!r}; expected '
                             f'one of {TEXTURE_KINDS}')


def _rotate(u: np.ndarray, v: np.ndarray, angle: float):
    cos, sin = np.cos(angle), np.sin(angle)
    return cos * u + sin * v, -sin * u + cos * v


def _value_noise(grid: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Periodic smooth noise; ``u``, ``v`` in grid cells."""
    size = grid.shape[0]
    u0, v0 = np.floor(u), np.floor(v)
    fu, fv = u - u0, v - v0
    fu, fv = fu * fu * (3.0 - 2.0 * fu), fv * fv * (3.0 - 2.0 * fv)
    col0 = np.mod(u0.astype(np.int64), size)
    row0 = np.mod(v0.astype(np.int64), size)
    col1, row1 = np.mod(col0 + 1, size), np.mod(row0 + 1, size)
    top = grid[row0, col0] * (1.0 - fu) + grid[row0, col1] * fu
    bottom = grid[row1, col0] * (1.0 - fu) + grid[row1, col1] * fu
    return top * (1.0 - fv) + bottom * fv


def texture_weight(texture: TextureSpec, u: np.ndarray,
                   v: np.ndarray) -> np.ndarray:
    """Mixing weight of the second colour.

    Args:
        texture: The texture.
        u, v: Arrays of equal shape, texture coordinates.

    Returns:
        np.ndarray: Weights in ``[0, 1]``, same shape as ``u``.
    """
    ru, rv = _rotate(u * texture.frequency, v * texture.frequency,
                     texture.orientation)
    if texture.kind == 'noise':
        return _value_noise(texture.noise_grid, ru, rv)
    if texture.kind == 'stripes':
        return 0.5 + 0.5 * np.tanh(3.0 * np.sin(2.0 * np.pi * ru))
    return np.mod(np.floor(ru) + np.floor(rv), 2.0)


def texture_colours(texture: TextureSpec, u: np.ndarray,
                    v: np.ndarray) -> np.ndarray:
    """Colours of the texture.

    Args:
        texture: The texture.
        u, v: Arrays of equal shape ``S``, texture coordinates.

    Returns:
        np.ndarray: ``(*S, 3)`` float RGB colours in ``[0, 255]``.
    """
    weight = texture_weight(texture, u, v)[..., None]
    first, second = texture.colours
    return first + weight * (second - first)
