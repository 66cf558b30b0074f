"""DINO ViT backbone: pos-embed interpolation, shapes, resize policy, speed
paths and freezing. Checkpoint loading is in test_backbones_loading.py."""
import math

import pytest
import torch
import torch.nn.functional as F
from rounding_bounds import assert_within, linear_error_bound

from mmsmtc.models.backbones import (VisionTransformer,
                                     interpolate_pos_embed_dino)
from mmsmtc.registry import MODELS

TINY_ARCH = dict(patch_size=4, embed_dim=32, depth=2, num_heads=2)
#: 56 / 4 = 14: the tiny model's pos_embed has DINO's 14 x 14 grid.
TINY_PRETRAIN_SIZE = 56


def tiny_vit(**kwargs):
    torch.manual_seed(0)
    return VisionTransformer(
        arch=TINY_ARCH, pretrain_img_size=TINY_PRETRAIN_SIZE, **kwargs)


def dino_interpolate_pos_encoding(pos_embed, patch_size, image_shape):
    """Transcription of DINO's ``interpolate_pos_encoding`` including its
    call from ``prepare_tokens`` (``B, nc, w, h = x.shape``)."""
    w, h = image_shape
    npatch = (w // patch_size) * (h // patch_size)
    N = pos_embed.shape[1] - 1
    if npatch == N and w == h:
        return pos_embed
    class_pos_embed = pos_embed[:, 0]
    patch_pos_embed = pos_embed[:, 1:]
    dim = pos_embed.shape[-1]
    w0 = w // patch_size
    h0 = h // patch_size
    w0, h0 = w0 + 0.1, h0 + 0.1
    patch_pos_embed = F.interpolate(
        patch_pos_embed.reshape(1, int(math.sqrt(N)), int(math.sqrt(N)),
                                dim).permute(0, 3, 1, 2),
        scale_factor=(w0 / math.sqrt(N), h0 / math.sqrt(N)),
        mode='bicubic',
    )
    assert int(w0) == patch_pos_embed.shape[-2]
    assert int(h0) == patch_pos_embed.shape[-1]
    patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).view(1, -1, dim)
    return torch.cat((class_pos_embed.unsqueeze(0), patch_pos_embed), dim=1)


@pytest.mark.parametrize('image_shape', [(224, 224), (256, 256), (480, 864),
                                         (480, 848), (864, 480), (160, 96)])
def test_pos_embed_interpolation_matches_dino(image_shape):
    pos_embed = torch.randn(1, 1 + 14 * 14, 24,
                            generator=torch.Generator().manual_seed(1))
    expected = dino_interpolate_pos_encoding(pos_embed, 16, image_shape)
    got = interpolate_pos_embed_dino(pos_embed, image_shape[0] // 16,
                                     image_shape[1] // 16)
    assert got.shape == expected.shape
    assert torch.equal(got, expected)


def test_pos_embed_scale_factor_trick_changes_values():
    """DINO's scale_factor sampling is not a plain resize to (h, w)."""
    pos_embed = torch.randn(1, 1 + 14 * 14, 8)
    got = interpolate_pos_embed_dino(pos_embed, 30, 54)
    grid = pos_embed[:, 1:].reshape(1, 14, 14, 8).permute(0, 3, 1, 2)
    plain = F.interpolate(grid, size=(30, 54), mode='bicubic')
    plain = plain.permute(0, 2, 3, 1).reshape(1, -1, 8)
    assert not torch.allclose(got[:, 1:], plain, atol=1e-4)


def test_pos_embed_rejects_non_square_grid():
    with pytest.raises(ValueError, match='not a square grid'):
        interpolate_pos_embed_dino(torch.zeros(1, 1 + 14 * 13, 8), 4, 4)


@pytest.mark.parametrize('size', [(56, 56), (64, 96), (40, 120), (4, 4)])
def test_tiny_vit_output_shapes(size):
    model = tiny_vit(out_types=('tokens', 'keys')).eval()
    tokens, keys = model(torch.randn(2, 3, *size))
    expected = (2, 32, size[0] // 4, size[1] // 4)
    assert tokens.shape == expected and keys.shape == expected
    assert model.out_channels == (32, 32)


def test_vit_s16_real_size_build_and_forward():
    model = MODELS.build(
        dict(type='VisionTransformer', arch='vit-s16',
             out_types=('keys', ))).eval()
    assert model.pos_embed.shape == (1, 197, 384)
    assert sum(p.numel() for p in model.parameters()) > 21_000_000
    with torch.no_grad():
        (keys, ) = model(torch.randn(1, 3, 224, 224))
    assert keys.shape == (1, 384, 14, 14)


def test_non_multiple_input_is_resized_down_and_logged_once(log_records):
    model = tiny_vit(out_types=('tokens', 'keys')).eval()
    images = torch.randn(1, 3, 58, 63)
    first = model(images)
    model(images)
    resized = F.interpolate(
        images, size=(56, 60), mode='bilinear', align_corners=False)
    expected = model(resized)
    for got, want in zip(first, expected):
        assert got.shape == (1, 32, 14, 15)
        assert torch.equal(got, want)
    messages = [r.getMessage() for r in log_records
                if 'not a multiple of the patch size' in r.getMessage()]
    assert len(messages) == 1 and '(56, 60)' in messages[0]


def test_multiple_input_is_not_logged(log_records):
    tiny_vit()(torch.randn(1, 3, 56, 60))
    assert not any('patch size' in r.getMessage() for r in log_records)


@pytest.mark.parametrize('images, error, match', [
    (torch.randn(1, 3, 3, 40), ValueError,
     'input images of 3x40 pixels are smaller than the stride 4'),
    (torch.randn(3, 56, 56), ValueError, r'\(N, 3, H, W\)'),
    (torch.randn(1, 1, 56, 56), ValueError, r'\(N, 3, H, W\)'),
    (torch.zeros(1, 3, 56, 56, dtype=torch.uint8), TypeError, 'float'),
    ([[0.0]], TypeError, 'expects a tensor'),
])
def test_bad_inputs_raise_clear_errors(images, error, match):
    with pytest.raises(error, match=match):
        tiny_vit()(images)


@pytest.mark.parametrize('kwargs, match', [
    (dict(arch='vit-l16'), 'unknown ViT arch'),
    (dict(arch=dict(patch_size=4, embed_dim=32)), 'exactly the keys'),
    (dict(arch=dict(TINY_ARCH, num_heads=3)), 'not divisible'),
    (dict(arch=TINY_ARCH, out_types=('keys', 'tokens')), 'out_types'),
    (dict(arch=TINY_ARCH, out_types=('cls', )), 'out_types'),
    (dict(arch=TINY_ARCH, out_types=()), 'out_types'),
])
def test_bad_configs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VisionTransformer(**kwargs)


def count_calls(module):
    calls = []
    module.register_forward_hook(lambda *args: calls.append(1))
    return calls


def test_keys_only_path_skips_last_attention_and_mlp():
    full = tiny_vit(out_types=('tokens', 'keys')).eval()
    keys_only = tiny_vit(out_types=('keys', )).eval()
    keys_only.load_state_dict(full.state_dict())
    last_mlp_calls = count_calls(keys_only.blocks[-1].mlp)
    last_proj_calls = count_calls(keys_only.blocks[-1].attn.proj)
    first_mlp_calls = count_calls(keys_only.blocks[0].mlp)
    full_mlp_calls = count_calls(full.blocks[-1].mlp)
    normed = []
    for model in (keys_only, full):
        model.blocks[-1].norm1.register_forward_hook(
            lambda module, args, out: normed.append(out))
    images = torch.randn(2, 3, 56, 48)
    (keys, ) = keys_only(images)
    _, full_keys = full(images)
    assert (len(last_mlp_calls), len(last_proj_calls)) == (0, 0)
    assert len(first_mlp_calls) == 1
    assert len(full_mlp_calls) == 1
    # both are the K rows of the qkv product of the last block's norm1
    # output, computed as a slice of the weight or of the product: each
    # within the float32 rounding bound of that product in float64
    for got, inputs in zip((keys, full_keys), normed):
        expected, bound = keys_product_and_bound(full, inputs, (14, 12))
        assert_within(got, expected, bound)


def keys_product_and_bound(model, normed, grid):
    """The last block's keys of ``normed`` (``(N, 1 + h * w, C)``, the
    block's norm1 output) in float64, as ``(N, C, h, w)``, and the bound on
    a float32 computation's rounding error."""
    dim = model.embed_dim
    qkv = model.blocks[-1].attn.qkv
    weight, bias = qkv.weight[dim:2 * dim], qkv.bias[dim:2 * dim]
    expected = F.linear(normed.double(), weight.double(), bias.double())
    bound = (linear_error_bound(normed, weight, bias, torch.float32) +
             linear_error_bound(normed, weight, bias, torch.float64))

    def patch_map(sequence):
        return sequence[:, 1:].transpose(1, 2).reshape(
            sequence.shape[0], dim, *grid)

    return patch_map(expected), patch_map(bound)


def test_keys_only_trainable_params_all_receive_gradients():
    """Unused last-block parameters are frozen, so DDP needs no
    find_unused_parameters."""
    model = tiny_vit(out_types=('keys', ))
    (keys, ) = model(torch.randn(1, 3, 56, 56))
    keys.square().mean().backward()
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert all(p.grad is not None for p in trainable.values())
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {
        'blocks.1.attn.proj.weight', 'blocks.1.attn.proj.bias',
        'blocks.1.norm2.weight', 'blocks.1.norm2.bias',
        'blocks.1.mlp.fc1.weight', 'blocks.1.mlp.fc1.bias',
        'blocks.1.mlp.fc2.weight', 'blocks.1.mlp.fc2.bias'
    }


def test_frozen_encoder_builds_no_graph_until_unfrozen():
    model = tiny_vit(out_types=('tokens', 'keys'), frozen=True)
    images = torch.randn(1, 3, 56, 56)
    tokens, keys = model(images)
    assert tokens.grad_fn is None and keys.grad_fn is None
    assert not any(p.requires_grad for p in model.parameters())
    model.unfreeze()
    tokens, keys = model(images)
    assert tokens.grad_fn is not None and keys.grad_fn is not None
    (tokens.sum() + keys.sum()).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.freeze()
    assert model(images)[0].grad_fn is None


def test_final_norm_is_optional_and_applied_to_tokens_only():
    plain = tiny_vit(out_types=('tokens', 'keys')).eval()
    normed = tiny_vit(out_types=('tokens', 'keys'), final_norm=True).eval()
    assert not hasattr(plain, 'norm')
    normed.load_state_dict(plain.state_dict(), strict=False)
    with torch.no_grad():
        normed.norm.weight.uniform_(0.5, 1.5)
        normed.norm.bias.normal_()
    images = torch.randn(1, 3, 56, 56)
    plain_tokens, plain_keys = plain(images)
    tokens, keys = normed(images)
    expected = F.layer_norm(
        plain_tokens.permute(0, 2, 3, 1), (32, ), normed.norm.weight,
        normed.norm.bias, eps=1e-6).permute(0, 3, 1, 2)
    torch.testing.assert_close(tokens, expected, rtol=1e-5, atol=1e-5)
    assert torch.equal(keys, plain_keys)


def test_drop_path_is_stochastic_in_training_mode_only():
    model = tiny_vit(drop_path_rate=0.5, frozen=True)
    images = torch.randn(4, 3, 56, 56)
    torch.manual_seed(1)
    first = model(images)[0]
    second = model(images)[0]
    assert not torch.equal(first, second)
    model.eval()
    assert torch.equal(model(images)[0], model(images)[0])


def test_random_init_follows_dino_and_needs_no_checkpoint():
    model = MODELS.build(
        dict(type='VisionTransformer', arch=TINY_ARCH,
             pretrain_img_size=TINY_PRETRAIN_SIZE))
    model.init_weights()
    assert model.pos_embed.abs().max() <= 2.0
    assert 0.01 < model.pos_embed.std() < 0.03
    assert 0.015 < model.blocks[0].attn.qkv.weight.std() < 0.025
    assert torch.equal(model.blocks[0].attn.qkv.bias,
                       torch.zeros_like(model.blocks[0].attn.qkv.bias))


def deeper_tiny_vit(layer_scale=False, **kwargs):
    """Four blocks: the middle ones have drop rates strictly in (0, rate).
    With ``layer_scale``, DINOv2's LayerScales drawn in [0.5, 1.5]."""
    torch.manual_seed(0)
    model = VisionTransformer(
        arch=dict(TINY_ARCH, depth=4, layer_scale=layer_scale),
        pretrain_img_size=TINY_PRETRAIN_SIZE, **kwargs)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith('.gamma'):
                parameter.uniform_(0.5, 1.5)
    return model


def assert_equal_up_to_float64_rounding(got, expected):
    """``got`` and ``expected`` are the same float64 computation summed in
    different orders (a sample subset instead of the batch, ``index_add``
    instead of adding zeros). Reordering a sum of ``n`` terms moves it by at
    most ``2 * gamma_n * sum|terms|`` with ``gamma_n = n u / (1 - n u)`` and
    ``u = 2**-53``: below 3e-13 * sum|terms| for the ``n <= 1182`` terms of
    this model's reductions (6 samples x 197 tokens). The tolerance,
    ``1e-9 * max|expected|``, leaves a factor of over 3000 for the terms'
    cancellation and its propagation through the blocks, whatever the
    processor; a logic error (a dropped sample computed, a wrong sample or
    scale) moves values by a fraction of their size."""
    assert got.dtype == expected.dtype == torch.float64
    torch.testing.assert_close(
        got, expected, rtol=0, atol=1e-9 * expected.abs().max().item())


@pytest.mark.parametrize('layer_scale', [False, True])
@pytest.mark.parametrize('frozen', [True, False])
def test_skipping_dropped_paths_equals_timm_blocks(frozen, layer_scale):
    """Same random state -> same tokens, keys and gradients as timm's
    blocks, which compute the dropped branches and multiply them by 0.

    In float64, so that the comparison checks the logic and not one
    processor's float32 rounding (the skipping code is dtype-generic; a
    float32 GEMM of a sample subset may block its sums differently). Both
    run PyTorch's default products (``fast_cpu_linear=False``)."""
    images = torch.randn(6, 3, 56, 56, dtype=torch.float64)
    outputs, grads = [], []
    for skip in (True, False):
        model = deeper_tiny_vit(layer_scale, drop_path_rate=0.6,
                                frozen=frozen,
                                out_types=('tokens', 'keys'),
                                skip_dropped_paths=skip,
                                fast_cpu_linear=False).train().double()
        dropped = []
        for block in model.blocks:
            block.drop_path2.register_forward_hook(
                lambda module, args, out: dropped.append(
                    int((out.flatten(1) == 0).all(1).sum())))
        torch.manual_seed(3)
        tokens, keys = model(images)
        outputs.append((tokens, keys, dropped))
        if not frozen:
            (tokens.square().sum() + keys.sum()).backward()
            grads.append([p.grad for p in model.parameters()
                          if p.requires_grad])
    (tokens, keys, _), (ref_tokens, ref_keys, ref_dropped) = outputs
    # the check is not vacuous: some samples were dropped, not all
    assert 0 < sum(ref_dropped) < 6 * len(ref_dropped)
    assert_equal_up_to_float64_rounding(tokens, ref_tokens)
    assert_equal_up_to_float64_rounding(keys, ref_keys)
    assert len(grads) == (0 if frozen else 2)
    for grad, ref_grad in zip(*grads):
        assert_equal_up_to_float64_rounding(grad, ref_grad)


def test_dropped_paths_are_skipped_only_in_training_mode():
    model = deeper_tiny_vit(drop_path_rate=0.9, out_types=('keys', )).eval()
    batch_sizes = []
    for block in model.blocks[:-1]:
        block.mlp.register_forward_hook(
            lambda module, args, out: batch_sizes.append(args[0].shape[0]))
    images = torch.randn(8, 3, 56, 56)
    with torch.no_grad():
        model(images)
        assert set(batch_sizes) == {8}
        batch_sizes.clear()
        model.train()
        torch.manual_seed(0)
        model(images)
    assert min(batch_sizes) < 8


def test_a_branch_dropped_for_every_sample_still_gets_a_zero_gradient():
    model = deeper_tiny_vit(drop_path_rate=0.6, out_types=('keys', )).train()
    model.blocks[1].drop_path2.drop_prob = 1.0
    model(torch.randn(3, 3, 56, 56))[0].sum().backward()
    grad = model.blocks[1].mlp.fc1.weight.grad
    assert grad is not None and torch.equal(grad, torch.zeros_like(grad))
