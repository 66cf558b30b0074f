"""The ViT backbone against timm's ``VisionTransformer``: DINO (patch 8/16)
and DINOv2 (patch 14, LayerScale) layouts, timm's positional-embedding
resampling, and strict loading of timm and official DINOv2 state dicts.

timm is the reference here (VideoSAUR/DINOSAUR take the output of timm's
last block before ``norm`` and the middle third of its ``attn.qkv`` output);
the models are tiny (depth 2, 48 channels, 3 heads) with random weights.
"""
import importlib.util
import logging
import re
from pathlib import Path

import pytest
import torch
from timm.layers import resample_abs_pos_embed
from timm.models.vision_transformer import \
    VisionTransformer as TimmVisionTransformer

from mmsmtc.models.backbones import (VisionTransformer,
                                     interpolate_pos_embed_dino,
                                     interpolate_pos_embed_timm,
                                     load_mapped_checkpoint)
from mmsmtc.registry import MODELS
from mmsmtc.utils.checkpoint import CheckpointError

CONVERTER = (Path(__file__).resolve().parents[2] / 'tools' /
             'model_converters' / 'dino_to_mmsmtc.py')
#: (arch, pretrain_img_size): a 4 x 4 positional grid each.
DINO_P8 = (dict(patch_size=8, embed_dim=48, depth=2, num_heads=3), 32)
DINO_P16 = (dict(patch_size=16, embed_dim=48, depth=2, num_heads=3), 64)
DINOV2_P14 = (dict(patch_size=14, embed_dim=48, depth=2, num_heads=3,
                   layer_scale=True), 56)


def random_timm_vit(arch, pretrain_img_size, seed=0):
    """timm's ViT of ``arch`` with ``dynamic_img_size=True`` and random
    weights everywhere (LayerScales far from their 1e-5 init)."""
    torch.manual_seed(seed)
    model = TimmVisionTransformer(
        img_size=pretrain_img_size,
        patch_size=arch['patch_size'],
        embed_dim=arch['embed_dim'],
        depth=arch['depth'],
        num_heads=arch['num_heads'],
        qkv_bias=True,
        init_values=1e-5 if arch.get('layer_scale') else None,
        class_token=True,
        dynamic_img_size=True,
        num_classes=0).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith('gamma'):
                parameter.uniform_(0.2, 1.5)
            elif 'norm' in name and name.endswith('weight'):
                parameter.uniform_(0.5, 1.5)
            else:
                parameter.normal_(0.0, 0.1)
    return model


def timm_last_block(model, images):
    """``(tokens, keys)`` of timm's last block as ``(N, C, h, w)``: the
    block's output (before ``norm``) and the K third of its qkv output,
    class entry dropped."""
    captured = {}
    last = model.blocks[-1]
    hooks = [
        last.register_forward_hook(
            lambda module, args, out: captured.update(tokens=out)),
        last.attn.qkv.register_forward_hook(
            lambda module, args, out: captured.update(qkv=out)),
    ]
    with torch.no_grad():
        model.forward_features(images)
    for hook in hooks:
        hook.remove()
    dim = model.embed_dim
    grid = (images.shape[-2] // model.patch_embed.patch_size[0],
            images.shape[-1] // model.patch_embed.patch_size[1])

    def patch_map(sequence):
        return sequence[:, 1:].transpose(1, 2).reshape(
            images.shape[0], dim, *grid)

    return (patch_map(captured['tokens']),
            patch_map(captured['qkv'][..., dim:2 * dim]))


def build_from_checkpoint(path, arch, pretrain_img_size, **kwargs):
    model = MODELS.build(
        dict(type='VisionTransformer', arch=arch,
             pretrain_img_size=pretrain_img_size,
             init_cfg=dict(type='Pretrained', checkpoint=str(path),
                           strict=True), **kwargs))
    model.init_weights()
    return model.eval()


def assert_close(got, expected):
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('arch, pretrain_img_size, size, interpolation', [
    (*DINO_P8, (32, 32), 'dino'),
    (*DINO_P8, (32, 32), 'timm'),
    (*DINO_P8, (16, 48), 'timm'),
    (*DINO_P8, (56, 24), 'timm'),
    (*DINO_P16, (64, 64), 'dino'),
    (*DINO_P16, (32, 96), 'timm'),
    (*DINOV2_P14, (56, 56), 'dino'),
    (*DINOV2_P14, (56, 56), 'timm'),
    (*DINOV2_P14, (28, 70), 'timm'),
    (*DINOV2_P14, (84, 42), 'timm'),
])
def test_tokens_and_keys_equal_timm_last_block(tmp_path, arch,
                                               pretrain_img_size, size,
                                               interpolation):
    """timm's state dict loads strictly; tokens = timm's last block output
    before ``norm``, keys = the K third of its qkv output, at the native
    grid and (``'timm'`` interpolation) at resampled grids."""
    reference = random_timm_vit(arch, pretrain_img_size)
    path = tmp_path / 'timm_vit.pth'
    torch.save(reference.state_dict(), path)
    model = build_from_checkpoint(
        path, arch, pretrain_img_size, out_types=('tokens', 'keys'),
        pos_embed_interpolation=interpolation)
    keys_only = build_from_checkpoint(
        path, arch, pretrain_img_size, out_types=('keys', ),
        pos_embed_interpolation=interpolation)
    images = torch.randn(2, 3, *size)
    expected_tokens, expected_keys = timm_last_block(reference, images)
    with torch.no_grad():
        tokens, keys = model(images)
        (only_keys, ) = keys_only(images)
    grid = (size[0] // arch['patch_size'], size[1] // arch['patch_size'])
    assert tokens.shape == keys.shape == (2, 48, *grid)
    assert_close(tokens, expected_tokens)
    assert_close(keys, expected_keys)
    assert_close(only_keys, expected_keys)


def test_layer_scale_is_part_of_the_forward(tmp_path):
    """The parity above is not vacuous: the LayerScales change the tokens
    (and only the last block's leave the keys alone)."""
    arch, size = DINOV2_P14
    reference = random_timm_vit(arch, size)
    path = tmp_path / 'timm_vit.pth'
    torch.save(reference.state_dict(), path)
    model = build_from_checkpoint(path, arch, size,
                                  out_types=('tokens', 'keys'))
    images = torch.randn(1, 3, 56, 56)
    with torch.no_grad():
        tokens, keys = model(images)
        model.blocks[-1].ls2.gamma.mul_(2)
        tokens_last, keys_last = model(images)
        model.blocks[0].ls1.gamma.mul_(2)
        tokens_first, keys_first = model(images)
    assert torch.equal(keys, keys_last)
    assert not torch.allclose(tokens, tokens_last, atol=1e-3)
    assert not torch.allclose(keys, keys_first, atol=1e-3)


@pytest.mark.parametrize('side, grid', [(37, (16, 16)), (37, (37, 37)),
                                        (4, (9, 3)), (5, (2, 7)),
                                        (6, (6, 4))])
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_timm_pos_embed_interpolation_equals_timm(side, grid, dtype):
    pos_embed = torch.randn(1, 1 + side * side, 8,
                            generator=torch.Generator().manual_seed(side))
    pos_embed = pos_embed.to(dtype)
    expected = resample_abs_pos_embed(pos_embed, new_size=grid,
                                      old_size=(side, side),
                                      num_prefix_tokens=1)
    got = interpolate_pos_embed_timm(pos_embed, *grid)
    assert got.dtype == dtype and got.shape == (1, 1 + grid[0] * grid[1], 8)
    assert torch.equal(got, expected)
    assert torch.equal(got[:, 0], pos_embed[:, 0])


def test_timm_pos_embed_interpolation_native_grid_and_errors():
    pos_embed = torch.randn(1, 1 + 37 * 37, 8)
    assert interpolate_pos_embed_timm(pos_embed, 37, 37) is pos_embed
    # VideoSAUR's copy of timm's function resamples the native grid too:
    # a same-size bicubic resize is the identity, so the shortcut is exact
    grid = pos_embed[:, 1:].reshape(1, 37, 37, 8).permute(0, 3, 1, 2)
    same = torch.nn.functional.interpolate(
        grid, size=(37, 37), mode='bicubic', antialias=True)
    assert torch.equal(same, grid)
    with pytest.raises(ValueError, match='not a square grid'):
        interpolate_pos_embed_timm(torch.zeros(1, 1 + 14 * 13, 8), 4, 4)


def test_timm_and_dino_interpolations_differ():
    """DINOSAUR's 37 x 37 -> 16 x 16 is not DINO's resampling: the option
    matters."""
    pos_embed = torch.randn(1, 1 + 37 * 37, 8)
    timm_style = interpolate_pos_embed_timm(pos_embed, 16, 16)
    dino_style = interpolate_pos_embed_dino(pos_embed, 16, 16)
    assert timm_style.shape == dino_style.shape
    assert not torch.allclose(timm_style, dino_style, atol=1e-2)


def official_dinov2_state(reference):
    """``dinov2_vit*14_pretrain.pth``'s layout: timm's names plus DINOv2's
    ``mask_token`` (1, C)."""
    return {**reference.state_dict(),
            'mask_token': torch.zeros(1, reference.embed_dim)}


@pytest.mark.parametrize('final_norm', [False, True])
def test_official_dinov2_layout_loads_strictly(tmp_path, final_norm,
                                               log_records):
    arch, size = DINOV2_P14
    reference = random_timm_vit(arch, size)
    state = official_dinov2_state(reference)
    path = tmp_path / 'dinov2_vittiny14_pretrain.pth'
    torch.save(state, path)
    model = VisionTransformer(arch, pretrain_img_size=size,
                              final_norm=final_norm)
    report = load_mapped_checkpoint(model, path, model.checkpoint_key_map(),
                                    strict=True)
    assert report.missing == [] and report.unexpected == []
    expected_ignored = {'mask_token'} | (
        set() if final_norm else {'norm.weight', 'norm.bias'})
    assert set(report.ignored) == expected_ignored
    for key, tensor in model.state_dict().items():
        assert torch.equal(tensor, state[key]), key
    assert {'blocks.1.ls1.gamma', 'blocks.1.ls2.gamma'} <= set(report.loaded)
    assert not any(r.levelno >= logging.WARNING for r in log_records)


def drop(state, key):
    del state[key]
    return state


@pytest.mark.parametrize('edit, summary', [
    (lambda state: drop(state, 'blocks.1.ls2.gamma'),
     'missing 1: blocks.1.ls2.gamma'),
    (lambda state: {k: v for k, v in state.items() if '.ls' not in k},
     'missing 4: blocks.0.ls1.gamma'),
    (lambda state: dict(state, **{'blocks.0.ls1.scale': torch.ones(48)}),
     'unexpected 1: blocks.0.ls1.scale'),
    (lambda state: dict(state, **{'register_tokens': torch.ones(1, 4, 48)}),
     'unexpected 1: register_tokens'),
])
def test_incomplete_or_foreign_dinov2_checkpoints_are_refused(
        tmp_path, edit, summary, log_records):
    """Strict loading names the offending keys and loads nothing; without
    ``strict`` the same keys are logged as a warning."""
    arch, size = DINOV2_P14
    state = edit(official_dinov2_state(random_timm_vit(arch, size)))
    path = tmp_path / 'dinov2_edited.pth'
    torch.save(state, path)
    model = VisionTransformer(arch, pretrain_img_size=size)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    refusal = (r'dinov2_edited\.pth does not fill VisionTransformer '
               r'exactly \(strict loading\):\n(.|\n)*' + re.escape(summary))
    with pytest.raises(CheckpointError, match=refusal):
        build_from_checkpoint(path, arch, size)
    with pytest.raises(CheckpointError, match=re.escape(summary)):
        load_mapped_checkpoint(model, path, model.checkpoint_key_map(),
                               strict=True)
    for key, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[key]), key
    load_mapped_checkpoint(model, path, model.checkpoint_key_map())
    warnings = [r.getMessage() for r in log_records
                if r.levelno == logging.WARNING]
    assert warnings and summary in warnings[-1]


def test_layer_scale_checkpoints_and_models_must_agree(tmp_path):
    arch, size = DINOV2_P14
    path = tmp_path / 'dinov2.pth'
    torch.save(official_dinov2_state(random_timm_vit(arch, size)), path)
    plain = dict(arch, layer_scale=False)
    with pytest.raises(CheckpointError,
                       match=r'unexpected 5: blocks\.0\.ls1\.gamma'):
        build_from_checkpoint(path, plain, size)
    state = official_dinov2_state(random_timm_vit(arch, size))
    state['blocks.0.ls1.gamma'] = torch.ones(96)
    torch.save(state, path)
    with pytest.raises(CheckpointError, match='another architecture'):
        build_from_checkpoint(path, arch, size)


def test_dinov2_archs_and_their_positional_grid():
    for name, dim, heads in (('dinov2-vit-s14', 384, 6),
                             ('dinov2-vit-b14', 768, 12)):
        settings = VisionTransformer._arch_settings(name)
        assert settings == dict(patch_size=14, embed_dim=dim, depth=12,
                                num_heads=heads, layer_scale=True,
                                pretrain_img_size=518)
    assert VisionTransformer._arch_settings('vit-b8')['layer_scale'] is False
    model = VisionTransformer('dinov2-vit-s14', out_types=('keys', ))
    assert model.pos_embed.shape == (1, 1 + 37 * 37, 384)
    assert model.blocks[11].ls2.gamma.shape == (384, )
    key_map = model.checkpoint_key_map()
    assert key_map.mapping['blocks.11.ls2.gamma'] == 'blocks.11.ls2.gamma'
    assert 'mask_token' in key_map.ignored_prefixes
    at_224 = VisionTransformer(dict(patch_size=14, embed_dim=48, depth=1,
                                    num_heads=3, pretrain_img_size=224))
    assert at_224.pos_embed.shape == (1, 1 + 16 * 16, 48)


def test_keys_only_freezes_the_last_layer_scales_too():
    arch, size = DINOV2_P14
    model = VisionTransformer(arch, pretrain_img_size=size,
                              out_types=('keys', ))
    model(torch.randn(1, 3, 56, 56))[0].square().mean().backward()
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert {'blocks.1.ls1.gamma', 'blocks.1.ls2.gamma'} <= frozen
    assert all(p.grad is not None for p in model.parameters()
               if p.requires_grad)


def test_random_init_resets_layer_scales():
    arch, size = DINOV2_P14
    model = VisionTransformer(arch, pretrain_img_size=size)
    with torch.no_grad():
        model.blocks[0].ls1.gamma.fill_(3.0)
    model.init_weights()
    for block in model.blocks:
        for gamma in (block.ls1.gamma, block.ls2.gamma):
            assert torch.equal(gamma, torch.full_like(gamma, 1e-5))


@pytest.mark.parametrize('kwargs, match', [
    (dict(arch=dict(DINOV2_P14[0], layer_scale='yes')), 'True or False'),
    (dict(arch=dict(DINOV2_P14[0], qkv_bias=True)), 'optionally'),
    (dict(arch=DINOV2_P14[0], pos_embed_interpolation='bilinear'),
     "pos_embed_interpolation must be one of \\['dino', 'timm'\\]"),
])
def test_bad_layer_scale_and_interpolation_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VisionTransformer(**kwargs)


def load_converter():
    spec = importlib.util.spec_from_file_location('dino_to_mmsmtc', CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_converter_turns_official_dinov2_into_a_plain_state_dict(
        tmp_path, monkeypatch, capsys):
    converter = load_converter()
    assert converter.parse_args(['a', 'b', '--arch',
                                 'dinov2-vit-b14']).arch == 'dinov2-vit-b14'
    arch, size = DINOV2_P14
    monkeypatch.setattr(
        converter, 'ARCH_BACKBONES', {
            'dinov2-vit-b14': lambda: VisionTransformer(
                arch, pretrain_img_size=size, final_norm=True)
        })
    state = official_dinov2_state(random_timm_vit(arch, size))
    source = tmp_path / 'dinov2_vitb14_pretrain.pth'
    torch.save(state, source)
    out = tmp_path / 'dinov2_vit-b14.pth'
    assert converter.main([str(source), str(out), '--arch',
                           'dinov2-vit-b14']) == 0
    assert 'ignored 1: mask_token' in capsys.readouterr().out
    converted = torch.load(out, weights_only=True)
    assert set(converted) == set(state) - {'mask_token'}
    del state['blocks.0.ls2.gamma']
    torch.save(state, source)
    assert converter.main([str(source), str(out), '--arch',
                           'dinov2-vit-b14']) == 1
    assert 'is --arch right?' in capsys.readouterr().err
