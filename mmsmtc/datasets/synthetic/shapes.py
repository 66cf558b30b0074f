"""Star-shaped outlines described by their radial extent.

Every synthetic object is star-shaped around its centre: in object-local
unit coordinates a point at polar angle ``phi`` and radius ``rho`` lies
inside the shape exactly when ``rho <= radial_extent(shape, phi)``. This
makes rasterisation one vectorised comparison and gives every shape an
inscribed disc (radius :func:`inscribed_radius`) that keypoints are placed
in.

Kinds and their parameters (``ShapeSpec.params``):

- ``'ellipse'``: ``(minor_ratio,)``; semi-axes 1 (local x) and
  ``minor_ratio`` (local y).
- ``'polygon'``: ``(num_sides,)``; regular polygon with circumradius 1 and
  a vertex on the local x axis.
- ``'star'``: ``(num_points, inner_ratio)``; straight-edged star alternating
  outer vertices (radius 1) and inner vertices (radius ``inner_ratio``).
- ``'blob'``: ``(a2, p2, a3, p3, a4, p4)``; smooth outline
  ``1 + sum_k a_k cos(k phi + p_k)`` for ``k = 2, 3, 4``.
"""
from dataclasses import dataclass
from functools import lru_cache
from typing import Tuple

import numpy as np

#: The shape kinds, in the order that defines their part class ids.
SHAPE_KINDS = ('ellipse', 'polygon', 'star', 'blob')

#: Number of parts (angular sectors) each kind is split into.
PARTS_PER_KIND = {'ellipse': 2, 'polygon': 3, 'star': 4, 'blob': 3}

#: Number of part classes including background (id 0); VIP-style class
#: ids of the parts of kind ``k`` follow those of the kinds before it.
NUM_PART_CLASSES = 1 + sum(PARTS_PER_KIND.values())

_DENSE_ANGLES = np.linspace(0.0, 2.0 * np.pi, 7200, endpoint=False)


@dataclass(frozen=True)
class ShapeSpec:
    """An outline: its kind and kind-specific parameters (see module doc)."""

    kind: str
    params: Tuple[float, ...]

    def __post_init__(self):
        if self.kind not in SHAPE_KINDS:
            raise ValueError(f'unknown shape kind {self.kind!r}; expected '
                             f'one of {SHAPE_KINDS}')


def part_class_ids(kind: str) -> Tuple[int, ...]:
    """The class ids of the parts of shape kind ``kind``, in sector order.

    Ellipses own ids 1-2, polygons 3-5, stars 6-9 and blobs 10-12; id 0 is
    the background, so every id is below 20 as in VIP.
    """
    first = 1
    for other in SHAPE_KINDS:
        if other == kind:
            return tuple(range(first, first + PARTS_PER_KIND[kind]))
        first += PARTS_PER_KIND[other]
    raise ValueError(f'unknown shape kind {kind!r}; expected one of '
                     f'{SHAPE_KINDS}')


def _ellipse_extent(phi: np.ndarray, minor_ratio: float) -> np.ndarray:
    return 1.0 / np.sqrt(np.cos(phi)**2 + (np.sin(phi) / minor_ratio)**2)


def _polygon_extent(phi: np.ndarray, num_sides: float) -> np.ndarray:
    sector = 2.0 * np.pi / num_sides
    offset = np.mod(phi, sector) - sector / 2.0
    return np.cos(sector / 2.0) / np.cos(offset)


def _star_extent(phi: np.ndarray, num_points: float,
                 inner_ratio: float) -> np.ndarray:
    """Distance to the edge joining the two vertices that bracket ``phi``."""
    half_sector = np.pi / num_points
    index = np.floor(np.mod(phi, 2.0 * np.pi) / half_sector)
    start_angle = index * half_sector
    starts_outer = np.mod(index, 2) == 0
    start_radius = np.where(starts_outer, 1.0, inner_ratio)
    end_radius = np.where(starts_outer, inner_ratio, 1.0)
    into_edge = np.mod(phi, 2.0 * np.pi) - start_angle
    numerator = start_radius * end_radius * np.sin(half_sector)
    denominator = (start_radius * np.sin(into_edge) +
                   end_radius * np.sin(half_sector - into_edge))
    return numerator / denominator


def _blob_extent(phi: np.ndarray, *harmonics: float) -> np.ndarray:
    extent = np.ones_like(phi)
    for order, (amplitude, phase) in enumerate(zip(harmonics[0::2],
                                                   harmonics[1::2]),
                                               start=2):
        extent = extent + amplitude * np.cos(order * phi + phase)
    return extent


_EXTENT_FUNCTIONS = {
    'ellipse': _ellipse_extent,
    'polygon': _polygon_extent,
    'star': _star_extent,
    'blob': _blob_extent,
}


def radial_extent(shape: ShapeSpec, phi: np.ndarray) -> np.ndarray:
    """Radius of the outline along the local polar angles ``phi``.

    Args:
        shape: The outline.
        phi: Array of any shape, angles in radians.

    Returns:
        np.ndarray: Radii in object-local units, same shape as ``phi``.
    """
    return _EXTENT_FUNCTIONS[shape.kind](np.asarray(phi, dtype=np.float64),
                                         *shape.params)


@lru_cache(maxsize=1024)
def inscribed_radius(shape: ShapeSpec) -> float:
    """Radius of a centred disc that lies inside the outline.

    The minimum of :func:`radial_extent` over a dense angle grid, shrunk by
    1% to cover the angles between grid samples.
    """
    return 0.99 * float(radial_extent(shape, _DENSE_ANGLES).min())


@lru_cache(maxsize=1024)
def circumscribed_radius(shape: ShapeSpec) -> float:
    """Radius of a centred disc that contains the outline (dense maximum,
    grown by 1%)."""
    return 1.01 * float(radial_extent(shape, _DENSE_ANGLES).max())


def contains(shape: ShapeSpec, local_x: np.ndarray,
             local_y: np.ndarray) -> np.ndarray:
    """Whether object-local points lie inside the outline.

    Args:
        shape: The outline.
        local_x, local_y: Arrays of equal shape, object-local coordinates.

    Returns:
        np.ndarray: Boolean array of the same shape.
    """
    radius = np.hypot(local_x, local_y)
    return radius <= radial_extent(shape, np.arctan2(local_y, local_x))
