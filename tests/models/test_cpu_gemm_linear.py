"""oneDNN-backed linear layers: same values and gradients as F.linear."""
import importlib

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmsmtc.models.backbones import VisionTransformer
from mmsmtc.models.layers import Linear, use_fast_cpu_linear
from mmsmtc.ops import linear

cpu_gemm = importlib.import_module('mmsmtc.ops.cpu_gemm')

needs_onednn = pytest.mark.skipif(
    not (torch.backends.mkldnn.is_available()
         and hasattr(torch.ops.mkldnn, '_linear_pointwise')),
    reason='this PyTorch build has no oneDNN linear operator')


@pytest.fixture
def onednn_on(monkeypatch):
    """Use oneDNN whatever the processor (the preference is per CPU)."""
    monkeypatch.setattr(cpu_gemm, 'onednn_linear_preferred',
                        lambda: True)


def float64_reference(inputs, weight, bias):
    """Values and gradients of F.linear in float64 for ``sum(out * probe)``."""
    leaves = [t.detach().double().requires_grad_() for t in
              (inputs, weight, bias)]
    out = F.linear(*leaves)
    return out, leaves


@needs_onednn
@pytest.mark.parametrize('shape', [(37, 24), (3, 5, 24)])
def test_onednn_linear_matches_float64_values_and_gradients(onednn_on, shape):
    torch.manual_seed(0)
    inputs = torch.randn(*shape, requires_grad=True)
    weight = torch.randn(16, 24, requires_grad=True)
    bias = torch.randn(16, requires_grad=True)
    probe = torch.randn(*shape[:-1], 16)
    out = linear(inputs, weight, bias)
    (out * probe).sum().backward()
    ref, leaves = float64_reference(inputs, weight, bias)
    (ref * probe.double()).sum().backward()
    assert out.shape == ref.shape
    torch.testing.assert_close(out.double(), ref, rtol=0, atol=1e-4)
    for got, leaf in zip((inputs, weight, bias), leaves):
        torch.testing.assert_close(got.grad.double(), leaf.grad, rtol=0,
                                   atol=1e-4)
    # the check is not vacuous: the products ran on oneDNN (no addmm/mm)
    with torch.profiler.profile() as profile:
        linear(inputs, weight, bias).sum().backward()
    ops = {event.key for event in profile.key_averages()}
    assert 'mkldnn::_linear_pointwise' in ops
    assert not {'aten::addmm', 'aten::mm'} & ops


@needs_onednn
def test_onednn_linear_takes_non_contiguous_inputs_and_no_bias(onednn_on):
    torch.manual_seed(1)
    inputs = torch.randn(24, 30).t()  # (30, 24), transposed view
    weight = torch.randn(8, 24)
    torch.testing.assert_close(
        linear(inputs, weight), F.linear(inputs, weight), rtol=1e-5,
        atol=1e-5)


@pytest.mark.parametrize('dtype', [torch.float64, torch.bfloat16])
def test_other_dtypes_fall_back_to_f_linear(onednn_on, dtype):
    torch.manual_seed(2)
    inputs = torch.randn(5, 7, dtype=dtype)
    weight = torch.randn(3, 7, dtype=dtype)
    with torch.profiler.profile() as profile:
        out = linear(inputs, weight)
    assert torch.equal(out, F.linear(inputs, weight))
    ops = {event.key for event in profile.key_averages()}
    assert 'mkldnn::_linear_pointwise' not in ops


def test_use_fast_cpu_linear_swaps_only_plain_linear_layers():
    class OwnLinear(nn.Linear):
        pass

    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), OwnLinear(5, 3))
    weight = model[0].weight
    keys = list(model.state_dict())
    assert use_fast_cpu_linear(model) is model
    assert type(model[0]) is Linear and model[0].weight is weight
    assert type(model[2]) is OwnLinear
    assert list(model.state_dict()) == keys


def test_vit_fast_cpu_linear_keeps_outputs_and_checkpoint_keys():
    arch = dict(patch_size=8, embed_dim=32, depth=2, num_heads=2)
    models = []
    for fast in (True, False):
        torch.manual_seed(0)
        models.append(
            VisionTransformer(arch=arch, pretrain_img_size=32,
                              out_types=('tokens', 'keys'),
                              fast_cpu_linear=fast).eval())
    fast_model, default_model = models
    assert list(fast_model.state_dict()) == list(default_model.state_dict())
    assert isinstance(fast_model.blocks[0].mlp.fc1, Linear)
    assert type(default_model.blocks[0].mlp.fc1) is nn.Linear
    images = torch.randn(2, 3, 32, 48)
    with torch.no_grad():
        for got, ref in zip(fast_model(images), default_model(images)):
            torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)


def test_environment_variable_turns_the_onednn_route_off(monkeypatch):
    cpu_gemm.onednn_linear_preferred.cache_clear()
    monkeypatch.setenv(cpu_gemm.ONEDNN_ENV_VAR, '0')
    try:
        assert cpu_gemm.onednn_linear_preferred() is False
    finally:
        cpu_gemm.onednn_linear_preferred.cache_clear()
