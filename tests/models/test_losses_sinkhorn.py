"""Log-domain Sinkhorn against hand-computed plans and the scaling form."""
import math

import pytest
import torch

from mmsmtc.models.losses.sinkhorn import log_sinkhorn


def scaling_sinkhorn(source_mass, target_mass, cost, eps, num_iters):
    """The official scaling-form iterations, written out as defined."""
    kernel = torch.exp(-cost / eps)
    mu = source_mass / source_mass.sum(-1, keepdim=True)
    nu = target_mass / target_mass.sum(-1, keepdim=True)
    b = torch.ones_like(nu)
    for _ in range(num_iters):
        a = mu / (kernel * b[..., None, :]).sum(-1)
        b = nu / (kernel * a[..., :, None]).sum(-2)
    return a[..., :, None] * kernel * b[..., None, :]


def test_two_by_two_symmetric_by_hand():
    # K = [[1, k], [k, 1]] with k = exp(-1 / 0.5); uniform masses: the first
    # a = 0.5 / (1 + k), then b = 0.5 / ((1 + k) a) = 1, a fixed point.
    cost = torch.tensor([[[0., 1.], [1., 0.]]])
    mass = torch.tensor([[2., 2.]])
    k = math.exp(-2.0)
    diagonal, off = 0.5 / (1 + k), 0.5 * k / (1 + k)
    expected = torch.tensor([[[diagonal, off], [off, diagonal]]])
    for num_iters in (1, 3):
        plan = log_sinkhorn(cost, mass, mass, eps=0.5, num_iters=num_iters)
        torch.testing.assert_close(plan, expected, rtol=1e-6, atol=0)


def test_two_by_two_unequal_masses_one_iteration_by_hand():
    # mu = (1/4, 3/4), nu = (1/2, 1/2), K = [[1, k], [k, 1]], k = exp(-2).
    # a_u = mu_u / (1 + k); b_v = nu_v / (K^T a)_v; plan = a_u K_uv b_v.
    k = math.exp(-2.0)
    a = [0.25 / (1 + k), 0.75 / (1 + k)]
    b = [0.5 / (a[0] + k * a[1]), 0.5 / (k * a[0] + a[1])]
    expected = torch.tensor([[[a[0] * b[0], a[0] * k * b[1]],
                              [a[1] * k * b[0], a[1] * b[1]]]])
    plan = log_sinkhorn(
        torch.tensor([[[0., 1.], [1., 0.]]]),
        torch.tensor([[1., 3.]]),
        torch.tensor([[5., 5.]]),
        eps=0.5,
        num_iters=1)
    torch.testing.assert_close(plan, expected, rtol=1e-6, atol=0)
    # Columns carry the target masses exactly after the last iteration.
    torch.testing.assert_close(plan.sum(-2), torch.tensor([[0.5, 0.5]]))


@pytest.mark.parametrize('num_iters', [1, 3, 10])
def test_equals_scaling_form_in_float32(num_iters):
    generator = torch.Generator().manual_seed(0)
    cost = 2 * torch.rand(6, 20, 30, generator=generator)
    source = torch.rand(6, 20, generator=generator) + 0.1
    target = torch.rand(6, 30, generator=generator) + 0.1
    plan = log_sinkhorn(cost, source, target, eps=0.05, num_iters=num_iters)
    exact = scaling_sinkhorn(source.double(), target.double(), cost.double(),
                             0.05, num_iters)
    official_fp32 = scaling_sinkhorn(source, target, cost, 0.05, num_iters)
    # Entries exp(-M / eps) with M / eps up to 40 carry float32 rounding of
    # the exponent (about 40 * 6e-8), in the official form as in this one.
    torch.testing.assert_close(plan.double(), exact, rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(plan, official_fp32, rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(plan.sum(-2), target / target.sum(-1, True))


def test_finite_where_the_scaling_form_underflows_in_float32():
    # M / eps between 150 and 200: every exp(-M / eps) flushes to zero.
    generator = torch.Generator().manual_seed(1)
    cost = 1.5 + 0.5 * torch.rand(2, 8, 8, generator=generator)
    mass = torch.ones(2, 8)
    assert not scaling_sinkhorn(mass, mass, cost, 0.01, 3).isfinite().all()
    plan = log_sinkhorn(cost, mass, mass, eps=0.01, num_iters=3)
    assert plan.isfinite().all()
    torch.testing.assert_close(plan.sum((-2, -1)), torch.ones(2))
    exact = scaling_sinkhorn(mass.double(), mass.double(), cost.double(),
                             0.01, 3)
    torch.testing.assert_close(plan.double(), exact, rtol=1e-4, atol=1e-9)


def test_finite_where_the_scaling_form_underflows_in_half():
    # Cosine costs of nearly orthogonal keys with the official eps = 0.05:
    # exp(-M / eps) < 6e-8 underflows in float16.
    generator = torch.Generator().manual_seed(2)
    cost = 0.9 + torch.rand(2, 8, 8, generator=generator)
    mass = torch.ones(2, 8)
    naive_half = scaling_sinkhorn(mass.half(), mass.half(), cost.half(),
                                  0.05, 3)
    assert not naive_half.isfinite().all()
    plan = log_sinkhorn(cost.half().float(), mass, mass)
    assert plan.isfinite().all()
    torch.testing.assert_close(plan.sum((-2, -1)), torch.ones(2))
