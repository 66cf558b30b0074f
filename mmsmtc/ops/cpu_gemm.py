"""Float32 CPU matrix products on oneDNN where that is measured faster.

PyTorch sends float32 ``F.linear`` on the CPU to MKL. The MKL inside the
PyTorch wheels runs its AVX-512 kernels only on Intel processors and AVX2
code on every other one; oneDNN (also inside PyTorch, as the private op
``torch.ops.mkldnn._linear_pointwise``) runs AVX-512 on any processor that
has it. Measured on ViT-S/16 shapes (``2056 x 384 -> 1536`` and the other
three layers; forward, input gradient and weight gradient), 2 threads:

- AMD EPYC (Zen 5, AVX-512): MKL 155-180 GFLOP/s, oneDNN 400 (forward and
  input gradient) and 260-280 (weight gradient); the SMTC training step
  (``tools/benchmarks/bench_train_step.py``) was about 2x faster on oneDNN.
- Intel Xeon (Sapphire Rapids class: AVX-512, AVX512-FP16, AMX): MKL runs
  AVX-512 there and is as fast as oneDNN or faster (see the README for the
  numbers); the trainable training step was 0.98x on oneDNN.
- Either vendor with AVX2 only: the two within 5% of each other.

So the default is a fixed rule, not a run-time measurement (the backend
changes the rounding, hence the training trajectory, and must not depend on
timing noise): oneDNN exactly when the processor has AVX-512 and is not an
Intel one (``vendor_id`` other than ``GenuineIntel``, read once per process
from ``/proc/cpuinfo`` or ``platform.processor()``; an unknown vendor keeps
PyTorch's default). The environment variable ``MMSMTC_ONEDNN_LINEAR``
overrides the rule: ``1`` uses oneDNN whatever the processor, ``0``
PyTorch's default everywhere.

Both backends compute in float32 (no reduced-precision modes); results
differ only by summation order. If this PyTorch lacks the private op, or
the op fails a small exact self-check on first use (e.g. after a signature
change), the products fall back to ``F.linear`` and one warning names the
reason.
"""
import functools
import logging
import os
import platform
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log

#: Environment variable forcing oneDNN (``1``) or PyTorch's default (``0``).
ONEDNN_ENV_VAR = 'MMSMTC_ONEDNN_LINEAR'
#: ``vendor_id`` of the processors whose MKL kernels use AVX-512.
INTEL_VENDOR = 'GenuineIntel'
#: ``/proc/cpuinfo`` flags printed by benchmarks next to the model name.
REPORTED_ISA_FLAGS = ('avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl',
                      'avx512_vnni', 'avx512_bf16', 'avx512_fp16',
                      'amx_tile', 'amx_bf16')
CPUINFO = '/proc/cpuinfo'


def processor_info(cpuinfo: str = CPUINFO) -> Dict[str, object]:
    """What this process knows about its processor.

    Returns:
        dict: ``vendor`` (e.g. ``'GenuineIntel'``, ``'AuthenticAMD'``, ``''``
        when unknown), ``model`` (model name, ``''`` when unknown),
        ``isa_flags`` (the :data:`REPORTED_ISA_FLAGS` it has, empty when
        ``/proc/cpuinfo`` is absent) and ``torch_capability`` (PyTorch's
        CPU capability, e.g. ``'AVX512'``).
    """
    fields: Dict[str, str] = {}
    try:
        with open(cpuinfo) as file:
            for line in file:
                key, _, value = line.partition(':')
                key = key.strip()
                if not key and fields:
                    break  # the first processor's block is enough
                fields.setdefault(key, value.strip())
    except OSError:
        pass
    flags = set(fields.get('flags', '').split())
    vendor = fields.get('vendor_id', '')
    if not vendor:
        described = platform.processor()  # e.g. '... GenuineIntel' (Windows)
        vendor = next((name for name in ('GenuineIntel', 'AuthenticAMD')
                       if name in described), '')
    return dict(
        vendor=vendor,
        model=fields.get('model name', platform.processor()),
        isa_flags=tuple(flag for flag in REPORTED_ISA_FLAGS if flag in flags),
        torch_capability=torch.backends.cpu.get_cpu_capability())


def describe_processor() -> str:
    """One line for benchmark reports: model, vendor, ISA flags, torch."""
    info = processor_info()
    flags = ' '.join(info['isa_flags']) or 'no ISA flags read'
    return (f'{info["model"] or "unknown processor"} '
            f'({info["vendor"] or "unknown vendor"}; {flags}; PyTorch '
            f'{torch.__version__}, CPU capability {info["torch_capability"]})')


def default_rule(vendor: str, torch_capability: str) -> Tuple[bool, str]:
    """The processor rule of the module docstring: ``(use oneDNN, why)``."""
    if not torch_capability.startswith('AVX512'):
        return False, f'PyTorch CPU capability {torch_capability}, no AVX-512'
    if vendor == INTEL_VENDOR:
        return False, 'Intel processor: MKL runs AVX-512 itself'
    if not vendor:
        return False, 'processor vendor unknown'
    return True, f'{vendor} processor with AVX-512 (MKL would run AVX2)'


def _onednn_product(inputs: torch.Tensor, weight: torch.Tensor,
                    bias: Optional[torch.Tensor]) -> torch.Tensor:
    """``inputs @ weight.T + bias`` on oneDNN: ``(n, i), (o, i) -> (n, o)``;
    either matrix may be a transposed view."""
    return torch.ops.mkldnn._linear_pointwise(inputs, weight, bias, 'none',
                                              [], '')


def _check_onednn_product() -> None:
    """Raise unless the private op exists and computes the three products
    :class:`_OneDNNLinearFunction` asks of it exactly on small integers."""
    if not torch.backends.mkldnn.is_available():
        raise RuntimeError('this PyTorch build has no oneDNN')
    if not hasattr(torch.ops.mkldnn, '_linear_pointwise'):
        raise RuntimeError('this PyTorch has no '
                           'torch.ops.mkldnn._linear_pointwise')
    with torch.no_grad():
        inputs = torch.arange(12, dtype=torch.float32).reshape(4, 3) - 5
        weight = torch.arange(6, dtype=torch.float32).reshape(2, 3) - 2
        bias = torch.tensor([1.0, -3.0])
        grad = torch.arange(8, dtype=torch.float32).reshape(4, 2) - 3
        # integers: float32 products are exact whatever the summation order
        checks = ((_onednn_product(inputs, weight, bias),
                   inputs @ weight.t() + bias),
                  (_onednn_product(grad, weight.t(), None), grad @ weight),
                  (_onednn_product(grad.t(), inputs.t(), None),
                   grad.t() @ inputs))
        for got, expected in checks:
            if not torch.equal(got, expected):
                raise RuntimeError('torch.ops.mkldnn._linear_pointwise gave '
                                   'a wrong product in a self-check')


@functools.lru_cache(maxsize=None)
def onednn_linear_preferred() -> bool:
    """Whether float32 CPU products go to oneDNN in this process.

    Decided once per process (see the module docstring): the environment
    variable, else the processor rule; then, if oneDNN was chosen, the
    private op's self-check. A failed check logs one warning and returns
    False.

    Raises:
        ValueError: ``MMSMTC_ONEDNN_LINEAR`` is set to neither 0 nor 1.
    """
    forced = os.environ.get(ONEDNN_ENV_VAR, '').strip()
    if forced not in ('', '0', '1'):
        raise ValueError(f'environment variable {ONEDNN_ENV_VAR}={forced!r}: '
                         'expected 0 (PyTorch default products) or 1 '
                         '(oneDNN), or unset (by processor)')
    if forced:
        wanted, why = forced == '1', f'{ONEDNN_ENV_VAR}={forced}'
    else:
        info = processor_info()
        wanted, why = default_rule(info['vendor'], info['torch_capability'])
    if not wanted:
        return False
    try:
        _check_onednn_product()
    except Exception as error:  # noqa: BLE001 -- any failure of a private op
        print_log(
            f'mmsmtc.ops.cpu_gemm: oneDNN products chosen ({why}) but '
            f'unusable ({type(error).__name__}: {error}); using F.linear',
            logger='current', level=logging.WARNING)
        return False
    print_log(f'mmsmtc.ops.cpu_gemm: float32 CPU products on oneDNN ({why}; '
              f'{ONEDNN_ENV_VAR}=0 keeps PyTorch\'s default)',
              logger='current')
    return True


class _OneDNNLinearFunction(torch.autograd.Function):
    """``F.linear`` on 2-D inputs with every product on oneDNN."""

    @staticmethod
    def forward(ctx, inputs: torch.Tensor, weight: torch.Tensor,
                bias: Optional[torch.Tensor]) -> torch.Tensor:
        ctx.save_for_backward(inputs, weight)
        ctx.has_bias = bias is not None
        return _onednn_product(inputs, weight, bias)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        inputs, weight = ctx.saved_tensors
        grad_output = grad_output.contiguous()
        grad_inputs = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_inputs = _onednn_product(grad_output, weight.t(), None)
        if ctx.needs_input_grad[1]:
            grad_weight = _onednn_product(grad_output.t(), inputs.t(), None)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_inputs, grad_weight, grad_bias


def linear(inputs: torch.Tensor,
           weight: torch.Tensor,
           bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``F.linear``, on oneDNN for float32 CPU tensors where preferred
    (:func:`onednn_linear_preferred`).

    Args:
        inputs: ``(*, in_features)``.
        weight: ``(out_features, in_features)``.
        bias: ``(out_features,)`` or None.

    Returns:
        Tensor: ``(*, out_features)``.
    """
    if not (inputs.device.type == 'cpu' and inputs.dtype == torch.float32
            and weight.dtype == torch.float32 and inputs.numel() > 0
            and not torch.is_autocast_enabled('cpu')
            and onednn_linear_preferred()):
        return F.linear(inputs, weight, bias)
    flat = inputs.reshape(-1, inputs.shape[-1])
    if not flat.is_contiguous():
        flat = flat.contiguous()
    out = _OneDNNLinearFunction.apply(flat, weight, bias)
    return out.view(*inputs.shape[:-1], weight.shape[0])
