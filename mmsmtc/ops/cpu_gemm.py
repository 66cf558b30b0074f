"""Float32 CPU matrix products on oneDNN where it is faster than MKL.

PyTorch sends float32 ``F.linear`` on the CPU to MKL. The MKL inside the
PyTorch wheels runs its AVX-512 kernels only on Intel processors and AVX2
code on every other one; oneDNN (also inside PyTorch, as
``torch.ops.mkldnn._linear_pointwise``) runs AVX-512 on any processor that
has it. Measured on an AMD EPYC (Zen 5), 2 threads, ViT-S/16 shapes
(``2056 x 384 -> 1536``): MKL 155-180 GFLOP/s, oneDNN 400 (forward and
input gradient) and 260-280 (weight gradient). With AVX2 only, the two are
within 5% of each other, so oneDNN is preferred exactly when the processor
has AVX-512. Both compute in float32 (no reduced-precision modes); results
differ from MKL's only by summation order. Setting the environment
variable ``MMSMTC_ONEDNN_LINEAR=0`` keeps PyTorch's default everywhere.
"""
import functools
import os
from typing import Optional

import torch
import torch.nn.functional as F

#: PyTorch's CPU capability names that include AVX-512.
AVX512_CAPABILITIES = ('AVX512', )
#: Environment variable that turns the oneDNN route off when ``0``.
ONEDNN_ENV_VAR = 'MMSMTC_ONEDNN_LINEAR'


@functools.lru_cache(maxsize=None)
def onednn_linear_preferred() -> bool:
    """Whether float32 CPU products go to oneDNN in this process.

    True when PyTorch has oneDNN with its linear operator, the processor
    has AVX-512 (see the module docstring) and ``MMSMTC_ONEDNN_LINEAR`` is
    not ``0``; decided once per process.
    """
    if os.environ.get(ONEDNN_ENV_VAR, '1') == '0':
        return False
    if not torch.backends.mkldnn.is_available():
        return False
    if not hasattr(torch.ops.mkldnn, '_linear_pointwise'):
        return False
    capability = torch.backends.cpu.get_cpu_capability()
    return capability.startswith(AVX512_CAPABILITIES)


def _onednn_product(inputs: torch.Tensor, weight: torch.Tensor,
                    bias: Optional[torch.Tensor]) -> torch.Tensor:
    """``inputs @ weight.T + bias`` on oneDNN: ``(n, i), (o, i) -> (n, o)``;
    either matrix may be a transposed view."""
    return torch.ops.mkldnn._linear_pointwise(inputs, weight, bias, 'none',
                                              [], '')


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
    """``F.linear``, on oneDNN for float32 CPU tensors where preferred.

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
