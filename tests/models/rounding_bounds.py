"""Forward-error bounds of matrix products, for tolerances that hold on any
processor (whatever its GEMM's blocking, summation order or FMA use).

A dot product of ``n`` terms computed in floating point in any order obeys
``|fl(x . y) - x . y| <= gamma_n * (|x| . |y|)`` with
``gamma_n = n u / (1 - n u)`` and ``u`` the unit roundoff (Higham, Accuracy
and Stability of Numerical Algorithms, 2nd ed., eq. 3.5); adding a bias is
one more term.
"""
import torch

#: Unit roundoff (half the machine epsilon) per dtype.
UNIT_ROUNDOFF = {torch.float32: 2.0**-24, torch.float64: 2.0**-53}


def gamma(num_terms: int, dtype: torch.dtype = torch.float32) -> float:
    """``gamma_n`` of a sum of ``num_terms`` products in ``dtype``."""
    scaled = num_terms * UNIT_ROUNDOFF[dtype]
    assert scaled < 1
    return scaled / (1 - scaled)


def linear_error_bound(inputs: torch.Tensor, weight: torch.Tensor,
                       bias: torch.Tensor = None,
                       dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Elementwise bound on the rounding error of ``F.linear(inputs, weight,
    bias)`` computed in ``dtype`` from these exact operands.

    Args:
        inputs: ``(*, in_features)``.
        weight: ``(out_features, in_features)``.
        bias: ``(out_features,)`` or None.

    Returns:
        Tensor: ``(*, out_features)`` float64, ``gamma_n * (|inputs| @
        |weight|.T + |bias|)`` with ``n = in_features`` (+1 with a bias).
    """
    magnitude = inputs.detach().double().abs() @ \
        weight.detach().double().abs().t()
    num_terms = inputs.shape[-1]
    if bias is not None:
        magnitude = magnitude + bias.detach().double().abs()
        num_terms += 1
    return gamma(num_terms, dtype) * magnitude


def assert_within(got: torch.Tensor, expected: torch.Tensor,
                  bound: torch.Tensor) -> None:
    """``|got - expected| <= bound`` elementwise, compared in float64."""
    error = (got.detach().double() - expected.detach().double()).abs()
    assert error.shape == bound.shape, (error.shape, bound.shape)
    excess = error - bound
    worst = int(excess.argmax())
    assert (excess <= 0).all(), (
        f'{int((excess > 0).sum())} of {excess.numel()} elements exceed '
        f'the rounding bound; worst: error {error.flatten()[worst]:.3e} > '
        f'bound {bound.flatten()[worst]:.3e}')
