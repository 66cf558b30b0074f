"""Semantic consistency loss: hand cases and the official definition."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmsmtc.models.losses import SemanticConsistencyLoss
from mmsmtc.models.losses.semantic_consistency_loss import ordered_frame_pairs
from mmsmtc.registry import MODELS


def reference_loss(student_logits, teacher_logits, keys, eps=0.05):
    """The official ``dense_transport_loss`` written out pair by pair.

    Scaling-form Sinkhorn (3 iterations) on ``1 - cos`` of the keys with
    the L1 norms of the normalised keys as masses; the plan weights
    ``sum_s p_teacher_j[s, v] * log(p_student_i[s, u] + 1e-8)``; the mean
    over batch and pairs of the sum over ``(u, v)``, negated.
    """
    tokens = F.normalize(keys.flatten(3).transpose(2, 3), dim=-1)
    frames = keys.shape[1]
    per_pair = []
    for i in range(frames):
        for j in range(frames):
            if i == j:
                continue
            cost = 1 - tokens[:, i] @ tokens[:, j].transpose(1, 2)
            kernel = torch.exp(-cost / eps)
            mu = tokens[:, i].abs().sum(-1)
            nu = tokens[:, j].abs().sum(-1)
            mu, nu = mu / mu.sum(-1, True), nu / nu.sum(-1, True)
            b = torch.ones_like(nu)
            for _ in range(3):
                a = mu / (kernel * b[:, None, :]).sum(-1)
                b = nu / (kernel * a[:, :, None]).sum(1)
            plan = a[:, :, None] * kernel * b[:, None, :]
            student = student_logits[:, i].softmax(1)  # (B, S, N): s, u
            teacher = teacher_logits[:, j].softmax(1)  # (B, S, N): s, v
            cross = (teacher[:, :, None, :] *
                     torch.log(student[:, :, :, None] + 1e-8)).sum(1)
            per_pair.append(-(plan * cross).sum((1, 2)))
    return torch.cat(per_pair).mean()


def random_inputs(generator, batch=2, frames=3, num_slots=5, channels=16,
                  height=4, width=5, logit_scale=2.0):
    positions = height * width
    return (logit_scale * torch.randn(batch, frames, num_slots, positions,
                                      generator=generator),
            logit_scale * torch.randn(batch, frames, num_slots, positions,
                                      generator=generator),
            torch.randn(batch, frames, channels, height, width,
                        generator=generator))


def run(loss_module, student_logits, teacher_logits, keys):
    return loss_module({'semantic_logits': student_logits}, {
        'semantic_logits': teacher_logits,
        'keys': keys
    })


def test_ordered_frame_pairs():
    assert ordered_frame_pairs(3, torch.device('cpu')).tolist() == [
        [0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]
    ]
    for frames in (2, 4, 5):
        assert ordered_frame_pairs(frames, torch.device('cpu')).tolist() == [
            [i, j] for i in range(frames) for j in range(frames) if i != j
        ]


def meta_inputs():
    return (torch.empty(2, 4, 16, 64, device='meta'),
            torch.empty(2, 4, 16, 64, device='meta'),
            torch.empty(2, 4, 32, 8, 8, device='meta'))


def test_never_reads_values_on_the_host():
    # Meta tensors have no values: .item(), boolean indexing or any other
    # host read (a device synchronisation on CUDA) would raise.
    loss = run(SemanticConsistencyLoss(), *meta_inputs())
    assert loss.device.type == 'meta' and loss.shape == ()


@pytest.mark.gpu
def test_no_device_synchronisation_on_cuda():
    generator = torch.Generator().manual_seed(9)
    inputs = [tensor.cuda() for tensor in random_inputs(generator)]
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        with torch.autocast('cuda', dtype=torch.float16):
            loss = run(SemanticConsistencyLoss(), *inputs)
    finally:
        torch.cuda.set_sync_debug_mode('default')
    torch.testing.assert_close(
        loss.cpu(), reference_loss(*[tensor.cpu() for tensor in inputs]),
        rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('swapped', [False, True])
def test_two_positions_by_hand(swapped):
    # Two frames of two positions with keys e1, e2. The plan is diagonal
    # (0.5 each, off-diagonal 0.5 exp(-20) / (1 + exp(-20))) when frame 1
    # repeats frame 0 and anti-diagonal when frame 1 swaps its positions.
    keys = torch.eye(2).view(1, 1, 2, 1, 2).repeat(1, 2, 1, 1, 1)
    if swapped:
        keys[0, 1] = keys[0, 1].flip(-1)
    # Student probabilities [slot, position] per frame.
    student_probs = torch.tensor([[[0.9, 0.2], [0.1, 0.8]],
                                  [[0.7, 0.4], [0.3, 0.6]]])
    # Teacher: frame 0 puts slot 0 at position 0, frame 1 slot 1 there.
    teacher_logits = torch.tensor([[[20., -20.], [-20., 20.]],
                                   [[-20., 20.], [20., -20.]]])
    loss = run(SemanticConsistencyLoss(), student_probs.log().unsqueeze(0),
               teacher_logits.unsqueeze(0), keys)

    def log_p(frame, slot, position):
        return math.log(student_probs[frame, slot, position].item() + 1e-8)

    if swapped:
        # Pair (0, 1): student position 0 meets teacher position 1 (slot 0).
        pair_01 = log_p(0, 0, 0) + log_p(0, 1, 1)
        pair_10 = log_p(1, 1, 0) + log_p(1, 0, 1)
    else:
        pair_01 = log_p(0, 1, 0) + log_p(0, 0, 1)
        pair_10 = log_p(1, 0, 0) + log_p(1, 1, 1)
    expected = -0.5 * (0.5 * pair_01 + 0.5 * pair_10)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize('seed,logit_scale', [(0, 1.0), (1, 3.0), (2, 8.0)])
def test_equals_official_definition_in_float32(seed, logit_scale):
    generator = torch.Generator().manual_seed(seed)
    inputs = random_inputs(generator, logit_scale=logit_scale)
    loss = run(SemanticConsistencyLoss(), *inputs)
    assert loss.dtype == torch.float32
    official_fp32 = reference_loss(*inputs)
    exact = reference_loss(*[tensor.double() for tensor in inputs])
    torch.testing.assert_close(loss, official_fp32, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(loss.double(), exact, rtol=1e-6, atol=1e-6)


def test_eps_and_weight_and_registry():
    generator = torch.Generator().manual_seed(3)
    inputs = random_inputs(generator)
    loss_module = MODELS.build(
        dict(type='SemanticConsistencyLoss', loss_weight=0.5, eps=0.1))
    torch.testing.assert_close(
        run(loss_module, *inputs),
        0.5 * reference_loss(*inputs, eps=0.1),
        rtol=1e-6,
        atol=1e-6)


def test_gradients_reach_only_the_student_logits():
    generator = torch.Generator().manual_seed(4)
    student_logits, teacher_logits, keys = random_inputs(generator)
    student_logits.requires_grad_(True)
    keys.requires_grad_(True)
    run(SemanticConsistencyLoss(), student_logits, teacher_logits,
        keys).backward()
    assert student_logits.grad.abs().sum() > 0
    assert keys.grad is None
    plans = SemanticConsistencyLoss().transport_plans(
        keys, ordered_frame_pairs(3, keys.device))
    assert not plans.requires_grad


def orthogonal_keys(batch=1, frames=2, positions_side=2, channels=16):
    """Keys whose frames use disjoint channels: every cross cosine is 0."""
    keys = torch.zeros(batch, frames, channels, positions_side,
                       positions_side)
    per_frame = channels // frames
    for frame in range(frames):
        keys[:, frame, frame * per_frame:(frame + 1) * per_frame] = 1.0
    return keys


def test_finite_in_half_precision_where_the_official_underflows():
    # Cross-frame cosines of 0 give exp(-1 / 0.05) = 2e-9: zero in float16,
    # so the official scaling iterations divide by zero.
    generator = torch.Generator().manual_seed(5)
    keys = orthogonal_keys()
    student_logits = 4 * torch.randn(1, 2, 3, 4, generator=generator)
    teacher_logits = 4 * torch.randn(1, 2, 3, 4, generator=generator)
    naive = reference_loss(student_logits.half(), teacher_logits.half(),
                           keys.half())
    assert not naive.isfinite()
    loss_module = SemanticConsistencyLoss()
    half_loss = run(loss_module, student_logits.half(),
                    teacher_logits.half(), keys.half())
    assert half_loss.isfinite() and half_loss.dtype == torch.float32
    torch.testing.assert_close(
        half_loss,
        reference_loss(student_logits.half().double(),
                       teacher_logits.half().double(),
                       keys.double()).float(),
        rtol=1e-6,
        atol=1e-6)


def test_bfloat16_autocast_keeps_float32_values():
    generator = torch.Generator().manual_seed(6)
    inputs = random_inputs(generator)
    loss_module = SemanticConsistencyLoss()
    full = run(loss_module, *inputs)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        autocast_loss = run(loss_module, *inputs)
    assert autocast_loss.dtype == torch.float32
    torch.testing.assert_close(autocast_loss, full, rtol=0, atol=0)
    low = run(loss_module, *[tensor.bfloat16() for tensor in inputs])
    assert low.isfinite()


def test_float32_underflow_of_the_official_kernel_stays_finite():
    # eps = 0.01 and cosines of 0: exp(-100) is below float32's range.
    generator = torch.Generator().manual_seed(7)
    keys = orthogonal_keys()
    student_logits = torch.randn(1, 2, 3, 4, generator=generator)
    teacher_logits = torch.randn(1, 2, 3, 4, generator=generator)
    assert not reference_loss(student_logits, teacher_logits, keys,
                              eps=0.01).isfinite()
    loss = run(
        SemanticConsistencyLoss(eps=0.01), student_logits, teacher_logits,
        keys)
    assert loss.isfinite()


def test_input_errors_name_the_tensor():
    generator = torch.Generator().manual_seed(8)
    student_logits, teacher_logits, keys = random_inputs(generator)
    loss_module = SemanticConsistencyLoss()
    with pytest.raises(
            ValueError,
            match=r"student_out\['semantic_logits'\] must have shape "
            r'\(B, T, S, N\) with N=20'):
        run(loss_module, student_logits[..., :-1], teacher_logits, keys)
    with pytest.raises(
            ValueError,
            match=r"teacher_out\['semantic_logits'\] must have shape "
            r'\(B, T, S, N\) with S=5'):
        run(loss_module, student_logits, teacher_logits[:, :, :4], keys)
    with pytest.raises(
            ValueError,
            match=r"teacher_out\['keys'\] must have shape \(B, T, C, h, w\)"):
        run(loss_module, student_logits, teacher_logits, keys.flatten(3))
    with pytest.raises(KeyError, match=r"teacher_out\['keys'\] is missing"):
        loss_module({'semantic_logits': student_logits},
                    {'semantic_logits': teacher_logits})
    with pytest.raises(TypeError, match=r"teacher_out\['keys'\] must be a "
                       r'floating-point tensor, got Tensor of torch.int64'):
        run(loss_module, student_logits, teacher_logits, keys.long())
    with pytest.raises(TypeError, match='got list'):
        run(loss_module, student_logits, teacher_logits, [keys])
    with pytest.raises(ValueError, match='needs T >= 2 frames'):
        run(loss_module, student_logits[:, :1], teacher_logits[:, :1],
            keys[:, :1])
    with pytest.raises(ValueError, match='eps must be positive'):
        SemanticConsistencyLoss(eps=0)
    with pytest.raises(ValueError, match='num_iters must be at least 1'):
        SemanticConsistencyLoss(num_iters=0)
