"""CorrelationFusion: hand-computed fusion, the fixed grid, shapes, errors."""
import pytest
import torch
import torch.nn.functional as F

from mmsmtc.models.necks import CorrelationFusion
from mmsmtc.registry import MODELS


def _naive_fusion(feats, weight, bias, grid):
    """Loop-by-loop statement of the fusion (no einsum, no roll)."""
    batch, frames, channels, height, width = feats.shape
    out = feats.clone()
    for b in range(batch):
        for t in range(frames):
            prev = F.interpolate(feats[b, (t - 1) % frames][None],
                                 grid,
                                 mode='bilinear',
                                 align_corners=False)[0]
            prev = prev.reshape(channels, -1)
            cur = feats[b, t].reshape(channels, -1)
            for o in range(channels):
                for pos in range(height * width):
                    total = bias[o].clone()
                    for g in range(prev.shape[1]):
                        corr = sum(prev[c, g] * cur[c, pos]
                                   for c in range(channels))
                        total = total + weight[o, g] * corr
                    out[b, t, o].view(-1)[pos] += total
    return out


def test_two_frames_one_pixel_by_hand():
    neck = CorrelationFusion(in_channels=1, grid_size=1)
    with torch.no_grad():
        neck.transport_proj.weight.fill_(2.0)
        neck.transport_proj.bias.fill_(0.5)
    feats = torch.tensor([3.0, 5.0]).reshape(1, 2, 1, 1, 1)
    out = neck(feats).flatten()
    # frame 0 pairs with frame 1 (cyclic) and vice versa: 2 * 3 * 5 + 0.5.
    assert out.tolist() == pytest.approx([3 + 30.5, 5 + 30.5])


def test_previous_frame_is_averaged_onto_a_smaller_grid():
    neck = CorrelationFusion(in_channels=1, grid_size=1)
    with torch.no_grad():
        neck.transport_proj.weight.fill_(1.0)
        neck.transport_proj.bias.zero_()
    prev = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    cur = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    feats = torch.stack([prev, cur]).reshape(1, 2, 1, 2, 2)
    out = neck(feats)
    # a 2x2 map resized to 1x1 (bilinear, half-pixel centres) is its mean.
    assert torch.allclose(out[0, 1, 0], cur + 2.5 * cur)


def test_matches_loop_definition_at_other_sizes():
    torch.manual_seed(0)
    neck = CorrelationFusion(in_channels=3, grid_size=(2, 3))
    feats = torch.randn(2, 3, 3, 3, 5)
    expected = _naive_fusion(feats, neck.transport_proj.weight.detach(),
                             neck.transport_proj.bias.detach(), (2, 3))
    assert torch.allclose(neck(feats), expected, atol=1e-5)


def test_resize_is_exactly_identity_at_the_grid_size():
    torch.manual_seed(0)
    maps = torch.randn(4, 8, 16, 16)
    resized = F.interpolate(maps, (16, 16),
                            mode='bilinear',
                            align_corners=False)
    assert torch.equal(resized, maps)


@pytest.mark.parametrize('size', [(16, 16), (30, 54), (7, 9), (1, 1)])
def test_shapes_at_several_sizes(size):
    neck = MODELS.build(dict(type='CorrelationFusion', in_channels=8))
    feats = torch.randn(2, 4, 8, *size)
    assert neck(feats).shape == feats.shape
    assert neck.transport_proj.in_features == 256


def test_gradients_reach_the_projection_and_both_frames():
    neck = CorrelationFusion(in_channels=2, grid_size=2)
    feats = torch.randn(1, 2, 2, 2, 2, requires_grad=True)
    neck(feats).sum().backward()
    assert neck.transport_proj.weight.grad.abs().sum() > 0
    assert feats.grad.abs().sum() > 0


def test_errors():
    with pytest.raises(ValueError, match='grid_size'):
        CorrelationFusion(in_channels=2, grid_size=(0, 4))
    with pytest.raises(ValueError, match='grid_size'):
        CorrelationFusion(in_channels=2, grid_size=(4, 4, 4))
    neck = CorrelationFusion(in_channels=2)
    with pytest.raises(ValueError, match=r'\(B, T, 2, h, w\)'):
        neck(torch.randn(2, 2, 4, 4))
    with pytest.raises(ValueError, match=r'\(B, T, 2, h, w\)'):
        neck(torch.randn(1, 2, 3, 4, 4))
