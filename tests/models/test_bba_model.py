"""Betrayed by Attention: block, losses, model modes and converter (the
spec's hand cases, shared/methods/betrayed_by_attention.md §7)."""
import importlib.util
import itertools
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mmsmtc.models.algorithms.bba import key_frame_indices
from mmsmtc.models.backbones.pos_embed import interpolate_pos_embed_dino
from mmsmtc.models.heads import SpatioTemporalBlock, head_averaged_attention
from mmsmtc.models.losses import (BbAMotionConsistencyLoss,
                                  BbASemanticConsistencyLoss)
from mmsmtc.registry import MODELS
from mmsmtc.utils import register_all_modules

register_all_modules()

TOOL = (Path(__file__).resolve().parents[2] / 'tools' / 'model_converters' /
        'bba_official_to_mmsmtc.py')
spec = importlib.util.spec_from_file_location('bba_converter', TOOL)
converter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(converter)
ConversionError, convert_state_dict = (converter.ConversionError,
                                       converter.convert_state_dict)


def tiny_cfg(**kwargs) -> dict:
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
        **kwargs)


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    built = MODELS.build(tiny_cfg(key_frame_stride=2))
    built.init_weights()
    with torch.no_grad():  # peaked attention: several clusters
        built.head.attn.qkv.weight.normal_(0, 0.3)
    return built.eval()


def test_block_official_shape():
    block = SpatioTemporalBlock()
    assert sum(p.numel() for p in block.parameters()) == 1773312
    assert block.norm1.eps == block.norm2.eps == 1e-5
    assert block.attn.qkv.bias is None
    assert block.scale == pytest.approx(48**-0.5)


def test_head_averaged_attention_is_the_mean_of_softmaxes():
    generator = torch.Generator().manual_seed(0)
    queries = torch.randn(8, 10, 6, generator=generator)
    keys = torch.randn(8, 12, 6, generator=generator)
    expected = ((queries @ keys.transpose(1, 2)) * 0.5).softmax(-1).mean(0)
    attention = head_averaged_attention(queries, keys, 0.5)
    assert torch.allclose(attention, expected, atol=1e-6)
    assert torch.allclose(attention.sum(-1), torch.ones(10), atol=1e-6)


@pytest.mark.parametrize('chunk_elements', [1, 12, 25, 1000])
def test_head_averaged_attention_blocks_equal_one_block(chunk_elements):
    """Blocks of 1 row, exactly 1 row (12 = m), 2 rows (the last one
    short) and all rows give the same values."""
    generator = torch.Generator().manual_seed(1)
    queries = torch.randn(3, 7, 4, generator=generator)
    keys = torch.randn(3, 12, 4, generator=generator)
    whole = head_averaged_attention(queries, keys, 0.7, chunk_elements=10**6)
    blocked = head_averaged_attention(queries, keys, 0.7,
                                      chunk_elements=chunk_elements)
    assert torch.equal(blocked, whole)


def test_key_frames():
    assert key_frame_indices(34, 10).tolist() == [0, 10, 20]
    assert key_frame_indices(12, 10).tolist() == [0]
    assert key_frame_indices(3, 10).tolist() == [0]  # official: none


def test_keys_are_the_vit_keys_head_major(model):
    vit = MODELS.build(
        dict(type='VisionTransformer',
             arch=dict(patch_size=8, embed_dim=32, depth=2, num_heads=4),
             out_types=('keys', ), pretrain_img_size=64))
    vit.load_state_dict(model.backbone.state_dict(), strict=False)
    frames = torch.randn(1, 3, 3, 32, 48)
    out = model(frames, mode='tensor')
    assert torch.allclose(out['keys'][0], vit(frames[0])[0], atol=1e-6)


@pytest.mark.parametrize('frames,stride,key_frames', [(3, 10, 1), (7, 2, 3)])
def test_tensor_mode_attention(model, frames, stride, key_frames):
    model.key_frame_stride = stride
    out = model(torch.randn(2, frames, 3, 32, 48), mode='tensor')
    model.key_frame_stride = 2
    assert out['keys'].shape == (2, frames, 32, 4, 6)
    assert out['attention'].shape == (2, frames * 24, key_frames * 24)
    assert torch.allclose(out['attention'].sum(-1),
                          torch.ones(2, frames * 24), atol=1e-5)


def test_windowed_prediction_equals_full_matrix(model):
    from mmsmtc.models.discovery import kl_hierarchical_clustering
    clip = torch.randn(7, 3, 32, 48)
    keys = model.frame_keys(clip)
    full = kl_hierarchical_clustering(model.inference_attention(keys), 7,
                                      normalize_rows=False)
    assert int(full.max()) + 1 > 1
    assert torch.equal(model.cluster_video(keys).flatten(), full)
    masks = model.predict_clip(clip)['pred_slot_masks']
    assert masks.shape[0] == 7 and masks.shape[2:] == (4, 6)
    assert torch.equal(masks.sum(1), torch.ones(7, 4, 6))


def naive_losses(attention, tokens, anchors):
    """Per-anchor loops following the official formulas."""
    frames, patches = tokens.shape[:2]
    rows = attention.view(frames, patches, frames, patches)
    semantic_pos, semantic_neg = [], []
    for t, i, s in itertools.product(range(frames), anchors.tolist(),
                                     range(frames)):
        order = torch.argsort(rows[t, i, s], descending=True)
        cosine = F.cosine_similarity(tokens[t, i][None], tokens[s], dim=-1)
        semantic_pos += (0.9 - cosine[order[:30]]).clamp(min=0).tolist()
        semantic_neg += (cosine[order[-200:]] - 0.1).clamp(min=0).tolist()
    semantic = (sum(semantic_pos) / len(semantic_pos) +
                sum(semantic_neg) / len(semantic_neg))
    flat = attention.view(frames, patches, -1)
    total, count = 0.0, 0
    for t in range(frames):
        qs = [flat[t, i] / flat[t, i].sum() for i in anchors.tolist()]
        scores = torch.stack([(q * (q + 1e-10).log()).sum() for q in qs])
        weights = scores.softmax(0)
        orders = [
            torch.argsort(rows[t, i, t], descending=True)
            for i in anchors.tolist()
        ]
        for j, k in itertools.product(range(50), range(10)):
            term = 0.0
            for w, q, order in zip(weights, qs, orders):
                neg, pos = flat[t, order[-50:][j]], flat[t, order[:10][k]]
                ce_neg = (q * (neg / neg.sum() + 1e-10).log()).sum()
                ce_pos = (q * (pos / pos.sum() + 1e-10).log()).sum()
                term += w * (ce_neg - ce_pos + 1).clamp(min=0)
            total += float(term)
            count += 1
    return semantic, total / count


def test_losses_against_naive_loops():
    generator = torch.Generator().manual_seed(0)
    frames, patches = 3, 60
    attention = torch.rand(frames * patches, frames * patches,
                           generator=generator) ** 4
    tokens = torch.randn(frames, patches, 5, generator=generator)
    anchors = torch.tensor([3, 17, 42])
    outputs = dict(attention=attention[None], tokens=tokens[None],
                   anchors=anchors)
    semantic, motion = naive_losses(attention, tokens, anchors)
    assert float(BbASemanticConsistencyLoss()(outputs)) == pytest.approx(
        semantic, rel=1e-5)
    assert float(BbAMotionConsistencyLoss()(outputs)) == pytest.approx(
        motion, rel=1e-5)


def test_loss_hand_values():
    attention = torch.rand(1, 3 * 40, 3 * 40)
    same_tokens = torch.ones(1, 3, 40, 4)
    outputs = dict(attention=attention, tokens=same_tokens,
                   anchors=torch.arange(8))
    assert float(BbASemanticConsistencyLoss()(outputs)) == pytest.approx(0.9)
    same_rows = dict(attention=torch.ones(1, 120, 120),
                     tokens=torch.randn(1, 3, 40, 4),
                     anchors=torch.arange(8))
    assert float(BbAMotionConsistencyLoss()(same_rows)) == pytest.approx(1.0)


def test_motion_loss_reaches_only_norm1_and_query_key_weights(model):
    model.train()
    torch.manual_seed(0)
    outputs = model.training_outputs(torch.randn(1, 3, 3, 32, 48))
    model.eval()
    BbAMotionConsistencyLoss()(outputs).backward()
    block = model.head
    dim = block.embed_dim
    assert block.attn.qkv.weight.grad[:2 * dim].abs().sum() > 0
    assert block.attn.qkv.weight.grad[2 * dim:].abs().sum() == 0
    assert block.norm1.weight.grad is not None
    for part in (block.attn.proj, block.norm2, block.mlp.fc1, block.mlp.fc2):
        assert all(p.grad is None or p.grad.abs().sum() == 0
                   for p in part.parameters())
    model.zero_grad(set_to_none=True)


def test_loss_mode_deterministic_in_eval(model):
    clip = torch.randn(1, 3, 3, 32, 48)
    torch.manual_seed(5)
    first = model(clip, mode='loss')
    torch.manual_seed(5)
    second = model(clip, mode='loss')
    assert set(first) == {'loss_semantic', 'loss_motion'}
    assert all(torch.equal(first[k], second[k]) for k in first)


def official_layout(depth=12, dim=384, mlp=1536) -> dict:
    """A state dict with the released checkpoint's keys and shapes."""
    state = {
        'encoder.cls_token': torch.zeros(1, 1, dim),
        'encoder.pos_embed': torch.zeros(1, 785, dim),
        'encoder.patch_embed.proj.weight': torch.zeros(dim, 3, 8, 8),
        'encoder.patch_embed.proj.bias': torch.zeros(dim),
        'encoder.norm.weight': torch.zeros(dim),
        'encoder.norm.bias': torch.zeros(dim),
    }
    shapes = {'norm1.weight': (dim, ), 'norm1.bias': (dim, ),
              'attn.qkv.weight': (3 * dim, dim), 'attn.qkv.bias': (3 * dim, ),
              'attn.proj.weight': (dim, dim), 'attn.proj.bias': (dim, ),
              'norm2.weight': (dim, ), 'norm2.bias': (dim, ),
              'mlp.fc1.weight': (mlp, dim), 'mlp.fc1.bias': (mlp, ),
              'mlp.fc2.weight': (dim, mlp), 'mlp.fc2.bias': (dim, )}
    for index in range(depth):
        for name, shape in shapes.items():
            state[f'encoder.blocks.{index}.{name}'] = torch.zeros(shape)
    for name, shape in shapes.items():
        if name != 'attn.qkv.bias':
            state[f'temporal_transformer.0.{name}'] = torch.zeros(shape)
    return state


def test_converter_maps_the_released_layout_strictly():
    state = official_layout()
    assert len(state) == 161
    converted, ignored = convert_state_dict(state)
    assert ignored == ['encoder.norm.bias', 'encoder.norm.weight']
    model = MODELS.build(
        dict(type='BetrayedByAttention',
             backbone=dict(type='VisionTransformer', arch='vit-s8',
                           out_types=('tokens', 'keys'), frozen=True),
             head=dict(type='SpatioTemporalBlock')))
    model.load_state_dict(converted, strict=True)


def test_converter_refuses_other_checkpoints():
    with pytest.raises(ConversionError, match='full DINO training'):
        convert_state_dict({'student': {}, 'teacher': {}})
    with pytest.raises(ConversionError, match='DINO backbone checkpoint'):
        convert_state_dict({'cls_token': torch.zeros(1),
                            'blocks.0.norm1.weight': torch.zeros(1)})
    state = official_layout(depth=1, dim=8, mlp=32)
    state['temporal_transformer.0.attn.qkv.bias'] = torch.zeros(24)
    with pytest.raises(ConversionError, match='unexpected keys'):
        convert_state_dict(state)
    state = official_layout(depth=1, dim=8, mlp=32)
    del state['temporal_transformer.0.norm1.weight']
    with pytest.raises(ConversionError, match='missing keys'):
        convert_state_dict(state)


def test_vit_forward_with_cls():
    vit = MODELS.build(
        dict(type='VisionTransformer',
             arch=dict(patch_size=8, embed_dim=32, depth=2, num_heads=4),
             out_types=('tokens', 'keys'), pretrain_img_size=64))
    images = torch.randn(2, 3, 32, 48)
    maps, cls_token = vit.forward_with_cls(images)
    plain = vit(images)
    assert all(torch.equal(a, b) for a, b in zip(maps, plain))
    assert cls_token.shape == (2, 32)
    # the cls entry of the last block's output: the same block run by hand
    tokens = vit.patch_embed(images)
    tokens = torch.cat([vit.cls_token.expand(2, -1, -1), tokens], 1)
    tokens = tokens + interpolate_pos_embed_dino(vit.pos_embed, 4, 6)
    for block in vit.blocks:
        tokens = block(tokens)
    assert torch.allclose(cls_token, tokens[:, 0], atol=1e-5)
    keys_only = MODELS.build(
        dict(type='VisionTransformer',
             arch=dict(patch_size=8, embed_dim=32, depth=2, num_heads=4),
             out_types=('keys', ), pretrain_img_size=64))
    with pytest.raises(ValueError, match='tokens'):
        keys_only.forward_with_cls(images)
