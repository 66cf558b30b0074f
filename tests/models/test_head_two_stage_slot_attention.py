"""TwoStageSlotAttention: hand-computed rounds, a loop reference, gradients."""
import math

import pytest
import torch

from mmsmtc.models.heads import TwoStageSlotAttention
from mmsmtc.registry import MODELS


def _reference(head, tokens, noise):
    """Both stages written out per frame, slot and instance with plain ops.

    Follows the official algorithm (no einsum, explicit softmax), values
    only; used to pin the vectorised head.
    """
    eps = head.eps
    outputs = {
        name: []
        for name in ('semantic_logits', 'slots', 'instance_logits',
                     'instance_slots')
    }
    for frame in range(tokens.shape[0]):
        inputs = head.norm_input(tokens[frame])
        keys, values = head.project_k(inputs), head.project_v(inputs)
        slots = head.slots_mu[0, :, 0].clone()
        for _ in range(head.iters):
            query = head.project_q(head.norm_slots(slots))
            logits = query @ keys.T * head.scale
            weights = logits.exp() / logits.exp().sum(0, keepdim=True) + eps
            weights = weights / weights.sum(1, keepdim=True)
            slots = slots + weights @ values
            slots = slots + head.mlp(head.norm_pre_ff(slots))
        semantic = logits
        if head.area_from == 'softmax':
            area = (semantic.softmax(0) > head.area_threshold).float()
        else:
            area = (semantic > head.area_threshold).float()
        instance_slots, instance_logits = [], []
        for s in range(head.num_slots):
            inst = head.slots_mu[0, s, 0] + head.slots_log_std[0, s, 0].exp() \
                * noise[frame, s]
            for _ in range(head.iters):
                query = head.project_q(head.norm_slots(inst))
                logits = query @ keys.T * head.scale
                weights = logits.exp() / logits.exp().sum(0, keepdim=True)
                weights = (weights + eps) * area[s]
                weights = weights / (weights.sum(1, keepdim=True) + eps)
                inst = inst + weights @ values
                inst = inst + head.mlp(head.norm_pre_ff(inst))
            instance_slots.append(inst)
            instance_logits.append(logits)
        outputs['semantic_logits'].append(semantic)
        outputs['slots'].append(slots)
        outputs['instance_logits'].append(torch.stack(instance_logits))
        outputs['instance_slots'].append(torch.stack(instance_slots))
    return {name: torch.stack(value) for name, value in outputs.items()}


def _identity_head(iters=1):
    """C=2, identity projections, zero MLP: one round is hand-computable."""
    head = TwoStageSlotAttention(in_channels=2,
                                 num_slots=2,
                                 num_instances=1,
                                 iters=iters)
    with torch.no_grad():
        for proj in (head.project_q, head.project_k, head.project_v):
            proj.weight.copy_(torch.eye(2))
            proj.bias.zero_()
        for layer in head.mlp:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
        head.slots_mu.copy_(
            torch.tensor([[1.0, 0.0], [0.0, 1.0]]).reshape(1, 2, 1, 2))
    return head


def test_semantic_round_on_two_slots_and_three_tokens_by_hand():
    head = _identity_head()
    tokens = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]]])
    out = head(tokens, torch.zeros(1, 2, 1, 2))
    # LayerNorm maps (x, y) with x > y to (a, -a), a = 0.5 / sqrt(0.25+eps)
    # for the first token (a differs for the third, 1 / sqrt(1 + eps)).
    a1 = 0.5 / math.sqrt(0.25 + 1e-5)
    a3 = 1.0 / math.sqrt(1.0 + 1e-5)
    scale = 2**-0.5
    logit = [2 * a1 * a1 * scale, -2 * a1 * a1 * scale, 2 * a1 * a3 * scale]
    expected_logits = torch.tensor([logit, [-v for v in logit]])
    assert torch.allclose(out['semantic_logits'][0],
                          expected_logits,
                          atol=1e-6)
    # softmax over the two slots, + 1e-8, normalised over the 3 tokens.
    p = [1 / (1 + math.exp(-2 * v)) for v in logit]
    weights = torch.tensor([p, [1 - v for v in p]]) + 1e-8
    weights = weights / weights.sum(1, keepdim=True)
    values = torch.tensor([[a1, -a1], [-a1, a1], [a3, -a3]])
    expected_slots = torch.tensor([[1.0, 0.0], [0.0, 1.0]]) + weights @ values
    assert torch.allclose(out['slots'][0], expected_slots, atol=1e-6)


def test_matches_loop_reference_for_both_area_sources():
    torch.manual_seed(0)
    for area_from in ('logits', 'softmax'):
        head = TwoStageSlotAttention(in_channels=8,
                                     num_slots=3,
                                     num_instances=2,
                                     iters=3,
                                     area_from=area_from)
        tokens = torch.randn(2, 5, 8) * 3
        noise = torch.randn(2, 3, 2, 8)
        out = head(tokens, noise)
        with torch.no_grad():
            ref = _reference(head, tokens, noise)
        for name, value in ref.items():
            assert torch.allclose(out[name], value, atol=1e-5), name


def test_semantic_area_by_hand():
    logits = torch.tensor([[[0.5, 0.1], [0.2, 0.4]]])
    official = TwoStageSlotAttention(in_channels=2, num_slots=2)
    assert official.semantic_area(logits).tolist() == [[[1, 0], [0, 1]]]
    softmax = TwoStageSlotAttention(in_channels=2,
                                    num_slots=2,
                                    area_from='softmax')
    # column softmax: (0.574, 0.426) and (0.426, 0.574), all above 0.3.
    assert softmax.semantic_area(logits).tolist() == [[[1, 1], [1, 1]]]


def test_instances_ignore_tokens_outside_their_semantic_area():
    torch.manual_seed(0)
    head = TwoStageSlotAttention(in_channels=4,
                                 num_slots=2,
                                 num_instances=2,
                                 iters=1,
                                 area_threshold=1e9)
    tokens = torch.randn(1, 6, 4)
    noise = torch.randn(1, 2, 2, 4)
    out = head(tokens, noise)
    init = head.sample_instance_init(1, noise)
    # empty areas: the update is zero, only the MLP step remains.
    expected = init + head.mlp(head.norm_pre_ff(init))
    assert torch.allclose(out['instance_slots'], expected, atol=1e-6)


def test_instance_init_is_mean_plus_std_times_noise():
    head = TwoStageSlotAttention(in_channels=4, num_slots=3, num_instances=2)
    noise = torch.randn(5, 3, 2, 4)
    init = head.sample_instance_init(5, noise)
    mu = head.slots_mu.detach()[0, :, 0][None, :, None]
    std = head.slots_log_std.detach()[0, :, 0].exp()[None, :, None]
    assert torch.equal(init, mu + std * noise)
    assert not init.requires_grad
    drawn = head.sample_instance_init(5)
    assert drawn.shape == (5, 3, 2, 4)


def test_log_std_is_initialised_like_the_official_xavier_uniform():
    head = TwoStageSlotAttention(in_channels=16, num_slots=4)
    bound = math.sqrt(6 / (4 * 16 + 16))
    assert head.slots_log_std.abs().max() <= bound
    assert head.slots_log_std.abs().max() > bound / 2


def test_gradient_flows_only_through_the_last_round():
    torch.manual_seed(0)
    head = TwoStageSlotAttention(in_channels=6,
                                 num_slots=3,
                                 num_instances=2,
                                 iters=3)
    tokens = torch.randn(2, 5, 6, requires_grad=True)
    out = head(tokens, torch.randn(2, 3, 2, 6))
    out['slots'].square().sum().backward()
    grad_mu, grad_tokens = head.slots_mu.grad.clone(), tokens.grad.clone()

    # Same value, but the first two rounds computed without autograd and
    # the last one started from a leaf that stands in for the means.
    head.zero_grad()
    leaf_tokens = tokens.detach().requires_grad_()
    inputs = head.norm_input(leaf_tokens)
    keys, values = head.project_k(inputs), head.project_v(inputs)
    with torch.no_grad():
        init = head.slots_mu[:, :, 0].expand(2, -1, -1)
        head.iters = 2
        before_last, _ = head._semantic_stage(init, keys, values)
    head.iters = 1
    start = before_last.clone().requires_grad_()
    slots, _ = head._semantic_stage(start, keys, values)
    slots.square().sum().backward()
    assert torch.allclose(grad_mu[0, :, 0], start.grad.sum(0), atol=1e-5)
    assert torch.allclose(grad_tokens, leaf_tokens.grad, atol=1e-5)


def test_single_round_keeps_the_full_gradient():
    head = TwoStageSlotAttention(in_channels=4, num_slots=2, iters=1)
    out = head(torch.randn(1, 3, 4))
    out['slots'].sum().backward()
    assert head.slots_mu.grad.abs().sum() > 0


def test_log_std_learns_only_when_reparameterised():
    tokens = torch.randn(2, 5, 4)
    official = TwoStageSlotAttention(in_channels=4,
                                     num_slots=2,
                                     num_instances=2)
    official(tokens)['instance_embeddings'].sum().backward()
    assert official.slots_log_std.grad is None

    learnable = TwoStageSlotAttention(in_channels=4,
                                      num_slots=2,
                                      num_instances=2,
                                      learnable_instance_std=True)
    learnable(tokens)['instance_embeddings'].square().sum().backward()
    assert learnable.slots_log_std.grad.abs().sum() > 0


@pytest.mark.parametrize('frames,length', [(1, 1), (3, 16), (2, 1620)])
def test_output_shapes(frames, length):
    head = MODELS.build(
        dict(type='TwoStageSlotAttention',
             in_channels=8,
             num_slots=4,
             num_instances=3,
             embed_channels=5))
    out = head(torch.randn(frames, length, 8))
    assert out['semantic_logits'].shape == (frames, 4, length)
    assert out['slots'].shape == (frames, 4, 8)
    assert out['instance_logits'].shape == (frames, 4, 3, length)
    assert out['instance_slots'].shape == (frames, 4, 3, 8)
    assert out['instance_embeddings'].shape == (frames, 4, 3, 5)
    norms = out['instance_embeddings'].norm(dim=-1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match='area_from'):
        TwoStageSlotAttention(in_channels=4, area_from='probs')
    with pytest.raises(ValueError, match='num_slots'):
        TwoStageSlotAttention(in_channels=4, num_slots=0)
    head = TwoStageSlotAttention(in_channels=4, num_slots=2, num_instances=2)
    with pytest.raises(ValueError, match=r'\(N, L, 4\)'):
        head(torch.randn(2, 3, 5))
    with pytest.raises(ValueError, match='instance_noise'):
        head(torch.randn(2, 3, 4), torch.randn(2, 2, 3, 4))
