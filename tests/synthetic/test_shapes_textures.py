"""Outlines and textures on hand-computed cases."""
import numpy as np
import pytest

from mmsmtc.datasets.synthetic.shapes import (NUM_PART_CLASSES, PARTS_PER_KIND,
                                              SHAPE_KINDS, ShapeSpec,
                                              circumscribed_radius, contains,
                                              inscribed_radius, part_class_ids,
                                              radial_extent)
from mmsmtc.datasets.synthetic.textures import (TextureSpec, texture_colours,
                                                texture_weight)


def test_ellipse_extent_on_its_axes():
    ellipse = ShapeSpec('ellipse', (0.5, ))
    np.testing.assert_allclose(
        radial_extent(ellipse, np.array([0, np.pi / 2, np.pi])),
        [1.0, 0.5, 1.0])
    # A boundary point (cos t, 0.5 sin t) must have the extent as radius.
    t = 0.7
    point = np.array([np.cos(t), 0.5 * np.sin(t)])
    np.testing.assert_allclose(
        radial_extent(ellipse, np.arctan2(point[1], point[0])),
        np.hypot(*point))


def test_polygon_vertices_and_edge_midpoints():
    hexagon = ShapeSpec('polygon', (6.0, ))
    vertices = np.arange(6) * np.pi / 3
    np.testing.assert_allclose(radial_extent(hexagon, vertices), 1.0)
    np.testing.assert_allclose(radial_extent(hexagon, vertices + np.pi / 6),
                               np.cos(np.pi / 6))


def test_star_edges_are_straight():
    star = ShapeSpec('star', (5.0, 0.5))
    outer = np.array([1.0, 0.0])
    inner_angle = np.pi / 5
    inner = 0.5 * np.array([np.cos(inner_angle), np.sin(inner_angle)])
    np.testing.assert_allclose(radial_extent(star, [0.0, inner_angle]),
                               [1.0, 0.5])
    for fraction in (0.25, 0.5, 0.8):
        point = outer + fraction * (inner - outer)
        np.testing.assert_allclose(
            radial_extent(star, np.arctan2(point[1], point[0])),
            np.hypot(*point))


def test_blob_and_disc_radii():
    blob = ShapeSpec('blob', (0.1, 0.0, 0.0, 0.0, 0.0, 0.0))
    np.testing.assert_allclose(radial_extent(blob, [0.0, np.pi / 2]),
                               [1.1, 0.9])
    assert 0.9 * 0.98 < inscribed_radius(blob) < 0.9
    assert 1.1 < circumscribed_radius(blob) < 1.1 * 1.02


def test_contains():
    square = ShapeSpec('polygon', (4.0, ))
    inside = contains(square, np.array([0.0, 0.3, 0.7]),
                      np.array([0.0, 0.3, 0.0]))
    outside = contains(square, np.array([0.6, 1.01]), np.array([0.6, 0.0]))
    assert inside.all() and not outside.any()


def test_part_class_ids_cover_contiguous_ids_below_20():
    ids = [i for kind in SHAPE_KINDS for i in part_class_ids(kind)]
    assert ids == list(range(1, NUM_PART_CLASSES))
    assert max(ids) < 20
    assert len(part_class_ids('star')) == PARTS_PER_KIND['star']


def test_unknown_kinds_are_rejected():
    with pytest.raises(ValueError, match='unknown shape kind'):
        ShapeSpec('triangle', (1.0, ))
    with pytest.raises(ValueError, match='unknown shape kind'):
        part_class_ids('triangle')
    with pytest.raises(ValueError, match='unknown texture kind'):
        TextureSpec('dots', np.zeros((2, 3)), 1.0, 0.0, np.zeros((2, 2)))


def _texture(kind, frequency=1.0, orientation=0.0, grid=None):
    colours = np.array([[0.0, 0.0, 0.0], [200.0, 100.0, 50.0]])
    grid = np.zeros((4, 4)) if grid is None else grid
    return TextureSpec(kind, colours, frequency, orientation, grid)


def test_checkers_parity_and_colours():
    checkers = _texture('checkers', frequency=2.0)
    u = np.array([0.1, 0.6, 0.1, 0.6])
    v = np.array([0.1, 0.1, 0.6, 0.6])
    np.testing.assert_array_equal(texture_weight(checkers, u, v), [0, 1, 1, 0])
    np.testing.assert_allclose(texture_colours(checkers, u[:2], v[:2]),
                               [[0.0, 0.0, 0.0], [200.0, 100.0, 50.0]])


def test_stripes_follow_orientation():
    stripes = _texture('stripes', orientation=np.pi / 2)
    u = np.linspace(0.0, 3.0, 7)
    weights = texture_weight(stripes, u, np.full_like(u, 0.25))
    np.testing.assert_allclose(weights, weights[0])
    assert 0.0 <= weights.min() and weights.max() <= 1.0


def test_value_noise_interpolates_its_periodic_grid():
    grid = np.random.default_rng(0).random((4, 4))
    noise = _texture('noise', grid=grid)
    rows, cols = np.mgrid[0:4, 0:4].astype(float)
    np.testing.assert_allclose(texture_weight(noise, cols, rows), grid)
    np.testing.assert_allclose(texture_weight(noise, cols + 4, rows - 8), grid)
    midpoint = texture_weight(noise, np.array([0.5]), np.array([0.0]))
    np.testing.assert_allclose(midpoint, (grid[0, 0] + grid[0, 1]) / 2)
