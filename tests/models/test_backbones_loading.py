"""Key-mapped loading of DINO-layout checkpoints into the ViT backbone, its
refusals, and the DINO -> mmsmtc converter.

Checkpoints are fabricated with DINO's key names written out here, and the
loaded model is compared with a plain-torch transcription of DINO's ViT
forward."""
import argparse
import importlib.util
import logging
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mmsmtc.models.backbones import (KeyMap, ResNet, VisionTransformer,
                                     load_mapped_checkpoint, map_state_dict,
                                     select_state_dict)
from mmsmtc.registry import MODELS
from mmsmtc.utils.checkpoint import CheckpointError, read_checkpoint

CONVERTER = (Path(__file__).resolve().parents[2] / 'tools' /
             'model_converters' / 'dino_to_mmsmtc.py')
TINY = dict(patch_size=4, embed_dim=32, depth=2, num_heads=2)


class ArbitraryObject:
    """Something weights_only unpickling must refuse."""


def fabricate_dino_state(embed_dim, depth, patch_size, grid, seed=0):
    """Random tensors under the official DINO ViT key names and shapes."""
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape, mean=0.0):
        return mean + 0.2 * torch.randn(*shape, generator=generator)

    c, hidden = embed_dim, 4 * embed_dim
    state = {
        'cls_token': rand(1, 1, c),
        'pos_embed': rand(1, 1 + grid * grid, c),
        'patch_embed.proj.weight': rand(c, 3, patch_size, patch_size),
        'patch_embed.proj.bias': rand(c),
    }
    for i in range(depth):
        state.update({
            f'blocks.{i}.norm1.weight': rand(c, mean=1.0),
            f'blocks.{i}.norm1.bias': rand(c),
            f'blocks.{i}.attn.qkv.weight': rand(3 * c, c),
            f'blocks.{i}.attn.qkv.bias': rand(3 * c),
            f'blocks.{i}.attn.proj.weight': rand(c, c),
            f'blocks.{i}.attn.proj.bias': rand(c),
            f'blocks.{i}.norm2.weight': rand(c, mean=1.0),
            f'blocks.{i}.norm2.bias': rand(c),
            f'blocks.{i}.mlp.fc1.weight': rand(hidden, c),
            f'blocks.{i}.mlp.fc1.bias': rand(hidden),
            f'blocks.{i}.mlp.fc2.weight': rand(c, hidden),
            f'blocks.{i}.mlp.fc2.bias': rand(c),
        })
    state['norm.weight'] = rand(c, mean=1.0)
    state['norm.bias'] = rand(c)
    return state


def dino_head_state(embed_dim, seed):
    generator = torch.Generator().manual_seed(seed)
    return {
        'head.mlp.0.weight': torch.randn(64, embed_dim, generator=generator),
        'head.mlp.0.bias': torch.randn(64, generator=generator),
        'head.last_layer.weight_g': torch.ones(128, 1),
    }


def dino_reference_forward(state, images, patch_size, num_heads, depth):
    """Plain-torch DINO ViT forward. Returns ``(tokens, normed_tokens,
    keys)`` as ``(N, C, h, w)``; tokens/keys of the last block."""
    x = F.conv2d(images, state['patch_embed.proj.weight'],
                 state['patch_embed.proj.bias'], stride=patch_size)
    n, c, h, w = x.shape
    x = torch.cat((state['cls_token'].expand(n, -1, -1),
                   x.flatten(2).transpose(1, 2)), dim=1)
    pos = state['pos_embed']
    side = int((pos.shape[1] - 1)**0.5)
    if (h, w) != (side, side):
        grid = pos[:, 1:].reshape(1, side, side, c).permute(0, 3, 1, 2)
        grid = F.interpolate(
            grid,
            scale_factor=((h + 0.1) / side, (w + 0.1) / side),
            mode='bicubic')
        pos = torch.cat((pos[:, :1], grid.flatten(2).transpose(1, 2)), 1)
    x = x + pos
    length, head_dim = x.shape[1], c // num_heads
    for i in range(depth):
        p = {k[len(f'blocks.{i}.'):]: v for k, v in state.items()
             if k.startswith(f'blocks.{i}.')}
        y = F.layer_norm(x, (c, ), p['norm1.weight'], p['norm1.bias'], 1e-6)
        qkv = F.linear(y, p['attn.qkv.weight'], p['attn.qkv.bias'])
        q, k, v = qkv.reshape(n, length, 3, num_heads,
                              head_dim).permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) * head_dim**-0.5).softmax(-1)
        y = (attn @ v).transpose(1, 2).reshape(n, length, c)
        x = x + F.linear(y, p['attn.proj.weight'], p['attn.proj.bias'])
        y = F.layer_norm(x, (c, ), p['norm2.weight'], p['norm2.bias'], 1e-6)
        y = F.linear(F.gelu(F.linear(y, p['mlp.fc1.weight'],
                                     p['mlp.fc1.bias'])),
                     p['mlp.fc2.weight'], p['mlp.fc2.bias'])
        x = x + y
    keys = k.permute(0, 2, 1, 3).reshape(n, length, c)
    normed = F.layer_norm(x, (c, ), state['norm.weight'], state['norm.bias'],
                          1e-6)

    def to_map(seq):
        return seq[:, 1:].transpose(1, 2).reshape(n, c, h, w)

    return to_map(x), to_map(normed), to_map(keys)


@pytest.fixture
def tiny_state():
    return fabricate_dino_state(32, 2, 4, 14, seed=0)


def build_tiny(checkpoint=None, which='teacher', **kwargs):
    init_cfg = None if checkpoint is None else dict(
        type='Pretrained', checkpoint=str(checkpoint), which=which)
    return MODELS.build(
        dict(type='VisionTransformer', arch=TINY, pretrain_img_size=56,
             out_types=('tokens', 'keys'), init_cfg=init_cfg, **kwargs))


def assert_loaded(model, state):
    own = model.state_dict()
    for key, tensor in own.items():
        assert torch.equal(tensor, state[key]), key


@pytest.mark.parametrize('size', [(56, 56), (48, 80)])
def test_plain_dino_checkpoint_loads_and_matches_reference(
        tmp_path, tiny_state, size, log_records):
    path = tmp_path / 'dino_tiny_pretrain.pth'
    torch.save(tiny_state, path)
    model = build_tiny(path, final_norm=True)
    model.init_weights()
    assert_loaded(model, tiny_state)
    images = torch.randn(2, 3, *size)
    tokens, keys = model.eval()(images)
    _, normed, ref_keys = dino_reference_forward(tiny_state, images, 4, 2, 2)
    torch.testing.assert_close(tokens, normed, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(keys, ref_keys, rtol=1e-4, atol=1e-5)
    summary = [
        r.getMessage() for r in log_records if 'loaded' in r.getMessage()
    ]
    assert summary and f'loaded {len(tiny_state)} tensors' in summary[0]


@pytest.mark.parametrize('which, prefix', [('teacher', 'backbone.'),
                                           ('student', 'module.backbone.')])
def test_training_checkpoint_with_prefixes_and_heads(tmp_path, which, prefix):
    teacher = fabricate_dino_state(32, 2, 4, 14, seed=1)
    student = fabricate_dino_state(32, 2, 4, 14, seed=2)
    checkpoint = {
        'teacher': {**{'backbone.' + k: v for k, v in teacher.items()},
                    **dino_head_state(32, 3)},
        'student': {**{'module.backbone.' + k: v
                       for k, v in student.items()},
                    **{'module.' + k: v
                       for k, v in dino_head_state(32, 4).items()}},
        'epoch': 100,
        'args': argparse.Namespace(arch='vit_small', patch_size=16),
    }
    path = tmp_path / 'checkpoint.pth'
    torch.save(checkpoint, path)
    model = build_tiny(path, which=which)
    model.init_weights()
    expected = teacher if which == 'teacher' else student
    assert_loaded(model, expected)
    images = torch.randn(1, 3, 56, 56)
    tokens, keys = model.eval()(images)
    ref_tokens, _, ref_keys = dino_reference_forward(expected, images, 4, 2,
                                                     2)
    torch.testing.assert_close(tokens, ref_tokens, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(keys, ref_keys, rtol=1e-4, atol=1e-5)

    state = select_state_dict(read_checkpoint(path), which, str(path))
    _, report = map_state_dict(state, model.checkpoint_key_map(),
                               model.state_dict(), str(path))
    assert set(report.ignored) == {
        'norm.weight', 'norm.bias', 'head.mlp.0.weight', 'head.mlp.0.bias',
        'head.last_layer.weight_g'
    }
    assert report.unexpected == [] and report.missing == []


def test_official_smtc_checkpoint_layout_loads_its_encoder(tmp_path,
                                                         tiny_state):
    path = tmp_path / 'smtc_checkpoint.pth'
    torch.save({
        'iteration': 3000,
        'model_state_dict': {
            **{'encoder.' + k: v for k, v in tiny_state.items()},
            'slot_attention.project_q.weight': torch.zeros(32, 32),
        },
        'loss': torch.tensor(0.5),
    }, path)
    model = build_tiny(final_norm=True)
    report = load_mapped_checkpoint(model, path, model.checkpoint_key_map())
    assert_loaded(model, tiny_state)
    assert report.unexpected == ['slot_attention.project_q.weight']


def test_tokens_without_final_norm_match_reference(tmp_path, tiny_state):
    path = tmp_path / 'dino.pth'
    torch.save(tiny_state, path)
    model = build_tiny(path)
    model.init_weights()
    images = torch.randn(1, 3, 60, 44)
    tokens, _ = model.eval()(images)
    ref_tokens, _, _ = dino_reference_forward(tiny_state, images, 4, 2, 2)
    torch.testing.assert_close(tokens, ref_tokens, rtol=1e-4, atol=1e-5)


def test_missing_and_unexpected_keys_are_logged(tmp_path, tiny_state,
                                                log_records):
    del tiny_state['blocks.1.mlp.fc2.bias']
    tiny_state['blocks.5.norm1.weight'] = torch.ones(32)
    path = tmp_path / 'partial.pth'
    torch.save(tiny_state, path)
    model = build_tiny()
    report = load_mapped_checkpoint(model, path, model.checkpoint_key_map())
    assert report.missing == ['blocks.1.mlp.fc2.bias']
    assert report.unexpected == ['blocks.5.norm1.weight']
    warnings = [r for r in log_records if r.levelno == logging.WARNING]
    assert warnings and 'blocks.5.norm1.weight' in warnings[-1].getMessage()


def test_checkpoint_of_a_wider_vit_is_refused(tmp_path):
    path = tmp_path / 'vit_b.pth'
    torch.save(fabricate_dino_state(48, 2, 4, 14), path)
    model = build_tiny(path)
    with pytest.raises(CheckpointError,
                       match=r'vit_b\.pth.*another architecture'):
        model.init_weights()


@pytest.mark.parametrize('content, match', [
    ({'epoch': 3, 'note': 'no tensors'}, 'contains no tensors'),
    ({'fc.weight': torch.zeros(2, 2)}, 'none of its 1 tensors maps'),
    ({'teacher': {'backbone.cls_token': torch.zeros(1, 1, 32)}},
     "without a 'student' network"),
    ({'module.cls_token': torch.zeros(1), 'cls_token': torch.zeros(1)},
     'both become'),
    (torch.zeros(3), 'holds a Tensor'),
    ({'obj': ArbitraryObject()}, 'not loaded for safety.*--allow-pickle'),
])
def test_bad_checkpoints_are_refused(tmp_path, content, match):
    path = tmp_path / 'bad.pth'
    torch.save(content, path)
    model = build_tiny(path, which='student')
    with pytest.raises(CheckpointError, match=match):
        model.init_weights()


def test_unreadable_and_absent_files(tmp_path):
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint' * 8)
    with pytest.raises(CheckpointError,
                       match='garbage.pth is not a readable'):
        read_checkpoint(garbage)
    truncated = tmp_path / 'truncated.pth'
    torch.save({'a': torch.ones(64)}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(CheckpointError,
                       match='truncated.pth is not a readable'):
        read_checkpoint(truncated)
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        read_checkpoint(tmp_path / 'absent.pth')


def test_invalid_which_and_init_cfg_shapes(tmp_path, tiny_state):
    with pytest.raises(ValueError, match='which must be one of'):
        select_state_dict(tiny_state, which='ema')
    with pytest.raises(ValueError, match='needs a "checkpoint"'):
        VisionTransformer(arch=TINY, pretrain_img_size=56,
                          init_cfg=dict(type='Pretrained')).init_weights()
    with pytest.raises(ValueError, match='single dict'):
        VisionTransformer(
            arch=TINY, pretrain_img_size=56,
            init_cfg=[dict(type='Pretrained', checkpoint='x.pth')
                      ]).init_weights()


def test_key_map_pointing_outside_the_module_is_a_bug():
    with pytest.raises(KeyError, match='does not have'):
        map_state_dict({'a': torch.zeros(1)}, KeyMap({'a': 'b'}),
                       {'c': torch.zeros(1)})


def load_converter():
    spec = importlib.util.spec_from_file_location('dino_to_mmsmtc', CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny_converter(monkeypatch):
    """The converter with its arch table replaced by tiny stand-ins."""
    converter = load_converter()
    monkeypatch.setattr(
        converter, 'ARCH_BACKBONES', {
            'vit-s16': lambda: VisionTransformer(
                TINY, pretrain_img_size=56, final_norm=True),
            'vit-b16': lambda: VisionTransformer(
                dict(TINY, embed_dim=48), pretrain_img_size=56,
                final_norm=True),
            'r50': lambda: ResNet(depth=18, out_indices=(0, )),
        })
    return converter


def test_converter_writes_a_plain_state_dict(tmp_path, tiny_converter,
                                              tiny_state, capsys):
    training = tmp_path / 'checkpoint.pth'
    torch.save({'teacher': {'backbone.' + k: v
                            for k, v in tiny_state.items()},
                'student': {'module.backbone.cls_token': torch.zeros(1)},
                'args': argparse.Namespace(arch='vit_small')}, training)
    out = tmp_path / 'out' / 'converted.pth'
    assert tiny_converter.main([str(training), str(out)]) == 0
    assert f'loaded {len(tiny_state)} tensors' in capsys.readouterr().out
    converted = torch.load(out, weights_only=True)
    assert set(converted) == set(tiny_state)
    assert all(torch.equal(converted[k], tiny_state[k]) for k in tiny_state)


@pytest.mark.parametrize('arch, edit, message', [
    ('vit-b16', None, 'another architecture'),
    ('r50', None, 'none of its'),
    ('vit-s16', 'norm.bias', 'is --arch right?'),
])
def test_converter_refuses_wrong_arch_or_incomplete_source(
        tmp_path, tiny_converter, tiny_state, capsys, arch, edit, message):
    if edit:
        del tiny_state[edit]
    source = tmp_path / 'dino.pth'
    torch.save(tiny_state, source)
    out = tmp_path / 'converted.pth'
    assert tiny_converter.main([str(source), str(out), '--arch', arch]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_converter_reads_trusted_pickles_only_when_allowed(
        tmp_path, tiny_converter, tiny_state, capsys):
    source = tmp_path / 'legacy.pth'
    torch.save({'teacher': tiny_state, 'args': ArbitraryObject()}, source)
    out = tmp_path / 'converted.pth'
    assert tiny_converter.main([str(source), str(out)]) == 1
    assert '--allow-pickle' in capsys.readouterr().err
    assert tiny_converter.main([str(source), str(out), '--allow-pickle']) == 0
    assert tiny_converter.main([str(tmp_path / 'absent.pth'), str(out)]) == 1
    assert 'does not exist' in capsys.readouterr().err


@pytest.mark.slow
def test_converter_real_vit_s16_round_trip(tmp_path):
    converter = load_converter()
    state = fabricate_dino_state(384, 12, 16, 14, seed=5)
    source = tmp_path / 'dino_deitsmall16_pretrain.pth'
    torch.save(state, source)
    out = tmp_path / 'vit-s16.pth'
    assert converter.main([str(source), str(out), '--arch', 'vit-s16']) == 0
    model = MODELS.build(
        dict(type='VisionTransformer', arch='vit-s16', out_types=('keys', ),
             init_cfg=dict(type='Pretrained', checkpoint=str(out))))
    model.init_weights()
    assert_loaded(model, state)


def test_reads_mmengine_training_checkpoints(tmp_path):
    """``tools/train.py`` checkpoints (message hub, numpy) load weights-only:
    they are written by mmsmtc's runner, which installs safe checkpointing."""
    import numpy as np
    from mmengine.logging import HistoryBuffer

    from mmsmtc.engine import install_safe_checkpointing
    install_safe_checkpointing()

    buffer = HistoryBuffer()
    buffer.update(0.5)
    path = tmp_path / 'iter_2.pth'
    torch.save(
        dict(state_dict={'w': torch.ones(1)},
             message_hub=dict(log_scalars={'train/loss': buffer},
                              runtime_info={'eta': np.float64(1.0)}),
             rng_state=dict(numpy=np.random.get_state())), path)
    assert torch.equal(read_checkpoint(path)['state_dict']['w'],
                       torch.ones(1))
