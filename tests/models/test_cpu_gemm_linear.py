"""oneDNN-backed linear layers: the values and gradients of F.linear within
float32 rounding bounds, the processor rule, and the fallback to F.linear.

Tolerances are forward-error bounds (``rounding_bounds.py``), so they hold
whatever the processor's GEMM kernels."""
import importlib
import logging

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from rounding_bounds import assert_within, linear_error_bound

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
    monkeypatch.setattr(cpu_gemm, 'onednn_linear_preferred', lambda: True)


@pytest.fixture
def onednn_off(monkeypatch):
    """Use PyTorch's default products whatever the processor."""
    monkeypatch.setattr(cpu_gemm, 'onednn_linear_preferred', lambda: False)


@pytest.fixture
def fresh_decision():
    """Forget this process's backend decision before and after the test."""
    cpu_gemm.onednn_linear_preferred.cache_clear()
    yield
    cpu_gemm.onednn_linear_preferred.cache_clear()


def float32_and_reference_bound(inputs, weight, bias=None):
    """Bound on ``|float32 result - float64 result|`` of one product: the
    float32 rounding plus the (much smaller) float64 rounding."""
    return (linear_error_bound(inputs, weight, bias, torch.float32) +
            linear_error_bound(inputs, weight, bias, torch.float64))


@needs_onednn
@pytest.mark.parametrize('shape', [(37, 24), (3, 5, 24)])
def test_onednn_linear_matches_float64_values_and_gradients(onednn_on, shape):
    torch.manual_seed(0)
    inputs = torch.randn(*shape, requires_grad=True)
    weight = torch.randn(16, 24, requires_grad=True)
    bias = torch.randn(16, requires_grad=True)
    probe = torch.randn(*shape[:-1], 16)
    out = linear(inputs, weight, bias)
    # d sum(out * probe) / d out = probe, exactly, in both dtypes
    (out * probe).sum().backward()
    leaves = [t.detach().double().requires_grad_()
              for t in (inputs, weight, bias)]
    ref = F.linear(*leaves)
    (ref * probe.double()).sum().backward()
    assert out.shape == ref.shape
    rows = probe.reshape(-1, 16)
    flat_inputs = inputs.detach().reshape(-1, 24)
    ones = torch.ones(1, rows.shape[0])
    bounds = {
        'output': float32_and_reference_bound(inputs, weight, bias),
        # the three backward products, each a linear of exact operands
        'inputs': float32_and_reference_bound(probe, weight.t()),
        'weight': float32_and_reference_bound(rows.t(), flat_inputs.t()),
        'bias': float32_and_reference_bound(ones, rows.t())[0],
    }
    assert_within(out, ref, bounds['output'])
    assert_within(inputs.grad, leaves[0].grad, bounds['inputs'])
    assert_within(weight.grad, leaves[1].grad, bounds['weight'])
    assert_within(bias.grad, leaves[2].grad, bounds['bias'])
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
    reference = F.linear(inputs.double(), weight.double())
    bound = float32_and_reference_bound(inputs, weight)
    assert_within(linear(inputs, weight), reference, bound)
    assert_within(F.linear(inputs, weight), reference, bound)


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

    model = nn.Sequential(
        nn.Linear(4, 5), nn.ReLU(), OwnLinear(5, 3),
        nn.Sequential(nn.Linear(3, 2, bias=False))).eval()
    weight, inner_weight = model[0].weight, model[3][0].weight
    state = {key: value.clone() for key, value in model.state_dict().items()}
    assert use_fast_cpu_linear(model) is model
    assert type(model[0]) is Linear and model[0].weight is weight
    assert type(model[3][0]) is Linear and model[3][0].weight is inner_weight
    assert model[3][0].bias is None and not model[0].training
    assert type(model[2]) is OwnLinear
    assert list(model.state_dict()) == list(state)
    assert all(torch.equal(value, state[key])
               for key, value in model.state_dict().items())
    assert [p for p in model.parameters()] == [
        model[0].weight, model[0].bias, model[2].weight, model[2].bias,
        inner_weight
    ]


def tiny_vits():
    """The same tiny ViT with and without ``fast_cpu_linear``."""
    arch = dict(patch_size=8, embed_dim=32, depth=2, num_heads=2)
    models = []
    for fast in (True, False):
        torch.manual_seed(0)
        models.append(
            VisionTransformer(arch=arch, pretrain_img_size=32,
                              out_types=('tokens', 'keys'),
                              fast_cpu_linear=fast).eval())
    return models


def test_vit_fast_cpu_linear_keeps_checkpoint_keys_and_default_products(
        onednn_off):
    """Without oneDNN the layers call exactly ``F.linear``: same bits."""
    fast_model, default_model = tiny_vits()
    assert list(fast_model.state_dict()) == list(default_model.state_dict())
    assert isinstance(fast_model.blocks[0].mlp.fc1, Linear)
    assert type(default_model.blocks[0].mlp.fc1) is nn.Linear
    images = torch.randn(2, 3, 32, 48)
    with torch.no_grad():
        for got, ref in zip(fast_model(images), default_model(images)):
            assert torch.equal(got, ref)


@needs_onednn
def test_vit_fast_cpu_linear_runs_every_block_product_on_onednn(onednn_on):
    fast_model, _ = tiny_vits()
    calls = []
    for layer in fast_model.modules():
        if isinstance(layer, Linear):
            layer.register_forward_hook(
                lambda layer, args, out: calls.append((layer, args[0], out)))
    with torch.no_grad(), torch.profiler.profile() as profile:
        fast_model(torch.randn(2, 3, 32, 48))
    counts = {event.key: event.count for event in profile.key_averages()}
    assert len(calls) == 4 * 2  # qkv, proj, fc1, fc2 per block
    assert counts.get('mkldnn::_linear_pointwise') == len(calls)
    for layer, inputs, out in calls:
        reference = F.linear(inputs.double(), layer.weight.double(),
                             layer.bias.double())
        assert_within(out, reference, float32_and_reference_bound(
            inputs, layer.weight, layer.bias))


@pytest.mark.parametrize('vendor, capability, expected', [
    ('AuthenticAMD', 'AVX512', True),
    ('HygonGenuine', 'AVX512', True),
    ('GenuineIntel', 'AVX512', False),
    ('AuthenticAMD', 'AVX2', False),
    ('GenuineIntel', 'AVX2', False),
    ('', 'AVX512', False),
    ('', 'DEFAULT', False),
])
def test_default_rule_prefers_onednn_only_on_non_intel_avx512(
        vendor, capability, expected):
    use, why = cpu_gemm.default_rule(vendor, capability)
    assert use is expected and why


def test_processor_info_reads_the_first_processor(tmp_path):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text(
        'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\n'
        'model name\t: AMD EPYC 9B45\nflags\t\t: fpu avx2 avx512f amx_tile\n'
        '\nprocessor\t: 1\nvendor_id\t: Other\n')
    info = cpu_gemm.processor_info(str(cpuinfo))
    assert info['vendor'] == 'AuthenticAMD'
    assert info['model'] == 'AMD EPYC 9B45'
    assert info['isa_flags'] == ('avx2', 'avx512f', 'amx_tile')
    assert info['torch_capability'] == \
        torch.backends.cpu.get_cpu_capability()


def test_default_decision_follows_the_rule_on_this_processor(
        monkeypatch, fresh_decision):
    monkeypatch.delenv(cpu_gemm.ONEDNN_ENV_VAR, raising=False)
    info = cpu_gemm.processor_info()
    wanted, _ = cpu_gemm.default_rule(info['vendor'],
                                      info['torch_capability'])
    available = (torch.backends.mkldnn.is_available()
                 and hasattr(torch.ops.mkldnn, '_linear_pointwise'))
    assert cpu_gemm.onednn_linear_preferred() is (wanted and available)


def test_environment_variable_turns_the_onednn_route_off(
        monkeypatch, fresh_decision):
    monkeypatch.setenv(cpu_gemm.ONEDNN_ENV_VAR, '0')
    monkeypatch.setattr(cpu_gemm, 'default_rule',
                        lambda *args: (True, 'any processor'))
    assert cpu_gemm.onednn_linear_preferred() is False


@needs_onednn
def test_environment_variable_turns_the_onednn_route_on(
        monkeypatch, fresh_decision, log_records):
    monkeypatch.setenv(cpu_gemm.ONEDNN_ENV_VAR, '1')
    monkeypatch.setattr(cpu_gemm, 'default_rule',
                        lambda *args: (False, 'any processor'))
    assert cpu_gemm.onednn_linear_preferred() is True
    assert not [r for r in log_records if r.levelno >= logging.WARNING]


def test_environment_variable_must_be_0_or_1(monkeypatch, fresh_decision):
    monkeypatch.setenv(cpu_gemm.ONEDNN_ENV_VAR, 'yes')
    with pytest.raises(ValueError, match='MMSMTC_ONEDNN_LINEAR'):
        cpu_gemm.onednn_linear_preferred()


class _NoLinearOps:
    """A ``torch.ops.mkldnn`` of a PyTorch without the private op."""


def _raise_type_error(*args):
    raise TypeError('_linear_pointwise() takes 3 arguments (6 given)')


def _zeros(inputs, weight, *args):
    return inputs.new_zeros(inputs.shape[0], weight.shape[0])


@pytest.mark.parametrize('break_op, reason', [
    (lambda mp: mp.setattr(torch.ops, 'mkldnn', _NoLinearOps()),
     'no torch.ops.mkldnn._linear_pointwise'),
    (lambda mp: mp.setattr(torch.ops.mkldnn, '_linear_pointwise',
                           _raise_type_error), 'TypeError'),
    (lambda mp: mp.setattr(torch.ops.mkldnn, '_linear_pointwise', _zeros),
     'wrong product'),
], ids=['missing', 'raising', 'wrong'])
def test_unusable_private_op_falls_back_to_f_linear_with_one_warning(
        monkeypatch, fresh_decision, log_records, break_op, reason):
    monkeypatch.setenv(cpu_gemm.ONEDNN_ENV_VAR, '1')
    monkeypatch.setattr(torch.backends.mkldnn, 'is_available', lambda: True)
    break_op(monkeypatch)
    torch.manual_seed(3)
    inputs, weight = torch.randn(6, 5), torch.randn(4, 5)
    for _ in range(3):
        assert torch.equal(linear(inputs, weight), F.linear(inputs, weight))
    assert cpu_gemm.onednn_linear_preferred() is False
    warnings = [r.getMessage() for r in log_records
                if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert reason in warnings[0] and 'F.linear' in warnings[0]
