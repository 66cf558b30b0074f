"""The registered, backbone-agnostic LabelPropagator."""
import pytest
import torch
import torch.nn as nn

from mmsmtc.apis import propagate_labels
from mmsmtc.models.propagators import LabelPropagator
from mmsmtc.registry import MODELS


class TwoStageConv(nn.Module):
    """A tiny backbone returning maps at stride 4 and 8."""

    def __init__(self):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.stride4 = nn.Conv2d(3, 6, 4, stride=4)
        self.stride8 = nn.Conv2d(6, 12, 2, stride=2)
        for conv in (self.stride4, self.stride8):
            conv.weight.data = torch.randn(conv.weight.shape,
                                           generator=generator)

    def forward(self, x):
        first = self.stride4(x)
        return first, self.stride8(first)


SETTINGS = dict(topk=5, radius=4, temperature=0.1, n_context=3)


def test_propagate_video_streams_and_equals_propagate_labels():
    backbone = TwoStageConv()
    frames = torch.randn(5, 3, 48, 64)
    labels = torch.rand(3, 6, 8)
    propagator = LabelPropagator(
        backbone, out_index=1, feature_batch_size=2, **SETTINGS)
    streamed = torch.stack(
        list(propagator.propagate_video(iter(frames), labels)))
    with torch.no_grad():
        feats = backbone(frames)[1]
    expected = propagate_labels(feats, labels, **SETTINGS)
    assert torch.equal(streamed[0], labels)
    assert (streamed - expected).abs().max().item() < 1e-6


def test_feature_upsampling_and_resampling_to_the_label_grid():
    backbone = TwoStageConv()
    frames = torch.randn(3, 3, 48, 64)
    propagator = LabelPropagator(
        backbone, out_index=1, feature_upsample=2, **SETTINGS)
    feats = propagator.extract_features(frames, (12, 16))
    assert feats.shape == (3, 12, 12, 16)
    with torch.no_grad():
        expected = nn.functional.interpolate(
            backbone(frames)[1], scale_factor=2, mode='bilinear',
            align_corners=False)
    assert torch.allclose(feats, expected)
    # one cell off the grid (its rounding) is resampled bilinearly ...
    resampled = propagator.extract_features(frames, (11, 17))
    assert resampled.shape == (3, 12, 11, 17)
    torch.testing.assert_close(
        resampled, nn.functional.interpolate(
            expected, size=(11, 17), mode='bilinear', align_corners=False))
    # ... further off is a stride that does not match the backbone
    with pytest.raises(ValueError, match='12x16 feature map but the label '
                       'grid is 5x7'):
        propagator.extract_features(frames, (5, 7))


def test_builds_from_the_registry_with_a_backbone_config():
    propagator = MODELS.build(
        dict(
            type='LabelPropagator',
            backbone=dict(type='ResNet', depth=18, out_indices=(2, )),
            **SETTINGS))
    assert isinstance(propagator, LabelPropagator)
    out = list(
        propagator.propagate_video([torch.randn(3, 64, 64)] * 3,
                                   torch.rand(2, 4, 4)))
    assert len(out) == 3 and out[2].shape == (2, 4, 4)


def test_bad_arguments():
    with pytest.raises(ValueError, match='feature_batch_size'):
        LabelPropagator(TwoStageConv(), feature_batch_size=0, **SETTINGS)
    with pytest.raises(ValueError, match='feature_upsample'):
        LabelPropagator(TwoStageConv(), feature_upsample=0, **SETTINGS)
    propagator = LabelPropagator(TwoStageConv(), **SETTINGS)
    with pytest.raises(ValueError, match='frames is empty'):
        list(propagator.propagate_video([], torch.rand(2, 6, 8)))
