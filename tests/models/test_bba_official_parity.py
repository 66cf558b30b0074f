"""mmsmtc's Betrayed by Attention against the official code's numbers.

``tests/data/bba_official/`` holds a tiny official ``AttEncoder`` with
random weights (``official_tiny.pth``, official layout) and what the
official code computes with it (``golden.pth``; both made by
``make_golden.py`` there, which runs the official functions unmodified):
the DINO keys, the inference attention (7 frames, key frames every 2), the
cluster ids of the full-matrix and the memory-efficient paths, the training
losses of a 3-frame clip in eval mode (dropout off) and the clusters of a
constructed attention matrix. Here the checkpoint goes through the
repository's converter (the command line), is loaded strictly, and mmsmtc
must give the same numbers (to 1e-4, float32) and the same cluster ids.
"""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mmsmtc.models.discovery import kl_hierarchical_clustering
from mmsmtc.registry import MODELS
from mmsmtc.utils import register_all_modules
from mmsmtc.utils.checkpoint import read_state_dict

register_all_modules()

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / 'tests' / 'data' / 'bba_official'
CONVERTER = ROOT / 'tools' / 'model_converters' / 'bba_official_to_mmsmtc.py'
TOLERANCE = 1e-4


def tiny_model_cfg(ratio: int, tau: float) -> dict:
    """The fixture's tiny model (make_golden.py ``build_official``)."""
    return dict(
        type='BetrayedByAttention',
        backbone=dict(
            type='VisionTransformer',
            arch=dict(patch_size=8, embed_dim=32, depth=2, num_heads=4),
            out_types=('tokens', 'keys'),
            frozen=True,
            pretrain_img_size=64),
        head=dict(type='SpatioTemporalBlock', embed_dim=32, num_heads=8),
        losses=[
            dict(type='BbASemanticConsistencyLoss'),
            dict(type='BbAMotionConsistencyLoss')
        ],
        key_frame_stride=ratio,
        tau=tau)


@pytest.fixture(scope='module')
def golden():
    return torch.load(FIXTURES / 'golden.pth', weights_only=True)


@pytest.fixture(scope='module')
def converted(tmp_path_factory, golden):
    dst = tmp_path_factory.mktemp('bba') / 'converted.pth'
    result = subprocess.run(
        [sys.executable, str(CONVERTER),
         str(FIXTURES / 'official_tiny.pth'),
         str(dst)],
        capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    model = MODELS.build(tiny_model_cfg(golden['ratio'], golden['tau']))
    # strict both ways: no missing and no unexpected tensor
    model.load_state_dict(read_state_dict(dst), strict=True)
    return model.eval()


@pytest.fixture(scope='module')
def frames(golden):
    mean = torch.tensor(golden['mean']).view(3, 1, 1)
    std = torch.tensor(golden['std']).view(3, 1, 1)
    return ((golden['frames'].float() / 255 - mean) / std)[None]


def test_keys_and_attention(converted, golden, frames):
    out = converted(frames, mode='tensor')
    assert out['keys'].shape == (1, 7, 32, 4, 6)
    assert out['attention'].shape == (1, 7 * 24, 3 * 24)
    keys_diff = (out['keys'][0] - golden['keys']).abs().max()
    attention_diff = (out['attention'][0] - golden['attention']).abs().max()
    assert keys_diff <= TOLERANCE, keys_diff
    assert attention_diff <= TOLERANCE, attention_diff


def test_training_losses(converted, golden, frames):
    torch.manual_seed(golden['loss_seed'])
    anchors = converted.training_outputs(frames[:, :3])['anchors']
    assert torch.equal(anchors, golden['anchors'])
    torch.manual_seed(golden['loss_seed'])
    losses = converted(frames[:, :3], mode='loss')
    for name in ('loss_semantic', 'loss_motion'):
        diff = (losses[name] - golden[name]).abs()
        assert diff <= TOLERANCE, (name, float(diff))


def test_cluster_ids(converted, golden, frames):
    ids = kl_hierarchical_clustering(golden['attention'], 7, tau=golden['tau'])
    assert int(ids.max()) + 1 > 1
    assert torch.equal(ids, golden['full_ids'])
    keys = converted(frames, mode='tensor')['keys'][0]
    efficient = converted.cluster_video(keys).flatten()
    assert torch.equal(efficient, golden['efficient_ids'])
    masks = converted.predict_clip(frames[0])['pred_slot_masks']
    assert torch.equal(masks.argmax(1).flatten(), golden['efficient_ids'])


def test_constructed_clusters(golden):
    ids = kl_hierarchical_clustering(golden['cluster_attention'], 7)
    assert int(ids.max()) + 1 == 3
    assert torch.equal(ids, golden['cluster_ids'])
