"""Spa-then-Temp's correlations: window mask, windowed affinity and the
plain-PyTorch local correlation (official: mmcv's CUDA-only Correlation)."""
import math

import pytest
import torch

from mmsmtc.ops import local_correlation, window_mask, windowed_affinity


def dense_local_correlation(query, key, radius):
    """Reference: gather the displacements from the dense dot products."""
    batch, _, height, width = query.shape
    dense = torch.einsum('bci,bcj->bij', query.flatten(2), key.flatten(2))
    side = 2 * radius + 1
    out = query.new_zeros(batch, side, side, height, width)
    for y in range(height):
        for x in range(width):
            for dy in range(-radius, radius + 1):
                for dx in range(-radius, radius + 1):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < height and 0 <= xx < width:
                        out[:, dy + radius, dx + radius, y, x] = \
                            dense[:, y * width + x, yy * width + xx]
    return out


@pytest.mark.parametrize('shape,radius', [((2, 5, 6, 7), 2), ((1, 3, 4, 4), 3),
                                          ((1, 2, 3, 5), 0)])
def test_local_correlation_equals_dense_reference(shape, radius):
    generator = torch.Generator().manual_seed(0)
    query = torch.randn(shape, generator=generator, dtype=torch.float64)
    key = torch.randn(shape, generator=generator, dtype=torch.float64)
    out = local_correlation(query, key, radius)
    torch.testing.assert_close(out, dense_local_correlation(query, key,
                                                            radius),
                               rtol=0, atol=1e-12)


def test_local_correlation_zero_outside_and_centre_is_self_product():
    query = torch.ones(1, 2, 3, 3)
    out = local_correlation(query, query, 1)
    assert out[0, 1, 1].eq(2).all()  # zero displacement: C = 2
    assert out[0, 0, :, 0].eq(0).all()  # dy = -1 from the top row
    assert out[0, :, 0, :, 0].eq(0).all()  # dx = -1 from the left column


def test_local_correlation_bad_input():
    with pytest.raises(ValueError, match='one shape'):
        local_correlation(torch.ones(1, 2, 3, 3), torch.ones(1, 2, 3, 4), 1)
    with pytest.raises(ValueError, match='max_displacement'):
        local_correlation(torch.ones(1, 2, 3, 3), torch.ones(1, 2, 3, 3), -1)


def test_window_mask_chebyshev_counts():
    mask = window_mask(7, 9, 2)
    counts = mask.sum(1).view(7, 9)
    assert counts[0, 0] == 9  # corner: (R + 1)^2
    assert counts[3, 4] == 25  # centre: (2R + 1)^2
    assert torch.equal(mask, mask.t())


def test_windowed_affinity_scaling_window_and_rows():
    generator = torch.Generator().manual_seed(1)
    query = torch.randn(2, 4, 5, 5, generator=generator, dtype=torch.float64)
    key = torch.randn(2, 4, 5, 5, generator=generator, dtype=torch.float64)
    affinity = windowed_affinity(query, key, radius=1)
    torch.testing.assert_close(affinity.sum(-1),
                               torch.ones(2, 25, dtype=torch.float64))
    assert affinity[:, ~window_mask(5, 5, 1)].eq(0).all()
    logits = torch.einsum('bci,bcj->bij', query.flatten(2), key.flatten(2))
    torch.testing.assert_close(windowed_affinity(query, key),
                               (logits / math.sqrt(4)).softmax(-1))
    torch.testing.assert_close(
        windowed_affinity(query, key, scale=False, temperature=0.07),
        (logits / 0.07).softmax(-1))
