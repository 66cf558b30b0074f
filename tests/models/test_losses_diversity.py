"""Slot diversity loss: hand cases and the official definition."""
import pytest
import torch

from mmsmtc.models.losses import SlotDiversityLoss
from mmsmtc.registry import MODELS


def reference_loss(logits):
    """The official ``differ_loss``, one slot pair at a time (float64)."""
    batch, frames, num_slots, _ = logits.shape
    total = 0.0
    count = 0
    for b in range(batch):
        for t in range(frames):
            maps = logits[b, t].double().softmax(0) + 1e-8
            maps = maps / maps.norm(dim=-1, keepdim=True)
            for s in range(num_slots):
                for r in range(num_slots):
                    if s != r:
                        total += (maps[s] @ maps[r]).item()
                        count += 1
    return total / count


def test_two_slots_by_hand():
    # Slot maps (0.8, 0.2) and (0.2, 0.8): cosine 0.32 / 0.68.
    probabilities = torch.tensor([[0.8, 0.2], [0.2, 0.8]])
    loss = SlotDiversityLoss()(
        {'semantic_logits': probabilities.log().view(1, 1, 2, 2)})
    assert loss.item() == pytest.approx(0.32 / 0.68, rel=1e-6)
    # Identical maps: cosine 1; disjoint maps: cosine ~0.
    uniform = SlotDiversityLoss()({'semantic_logits': torch.zeros(1, 1, 3, 4)})
    assert uniform.item() == pytest.approx(1.0, rel=1e-6)
    disjoint = torch.tensor([[30., -30.], [-30., 30.]]).view(1, 1, 2, 2)
    assert SlotDiversityLoss()({'semantic_logits': disjoint}).item() < 1e-7


@pytest.mark.parametrize('seed,scale', [(0, 1.0), (1, 5.0)])
def test_equals_official_definition(seed, scale):
    generator = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(2, 3, 6, 25, generator=generator)
    loss = SlotDiversityLoss()({'semantic_logits': logits}, None)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(reference_loss(logits), rel=1e-6)


def test_weight_registry_gradient_and_autocast():
    generator = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 2, 4, 9, generator=generator, requires_grad=True)
    loss_module = MODELS.build(dict(type='SlotDiversityLoss',
                                    loss_weight=3.0))
    loss = loss_module({'semantic_logits': logits}, {})
    assert loss.item() == pytest.approx(3 * reference_loss(logits.detach()),
                                        rel=1e-6)
    loss.backward()
    assert logits.grad.abs().sum() > 0
    with torch.autocast('cpu', dtype=torch.bfloat16):
        autocast_loss = loss_module({'semantic_logits': logits})
    assert autocast_loss.dtype == torch.float32
    torch.testing.assert_close(autocast_loss, loss.detach(), rtol=0, atol=0)
    # Half inputs run in float32: the value of the rounded inputs.
    half = (50 * torch.randn(1, 2, 3, 8, generator=generator)).half()
    half_loss = loss_module({'semantic_logits': half})
    assert half_loss.dtype == torch.float32 and half_loss.isfinite()
    assert half_loss.item() == pytest.approx(3 * reference_loss(half.float()),
                                             rel=1e-6)
    meta = loss_module(
        {'semantic_logits': torch.empty(2, 4, 16, 64, device='meta')})
    assert meta.device.type == 'meta' and meta.shape == ()


def test_input_errors():
    with pytest.raises(ValueError, match='needs S >= 2 slots'):
        SlotDiversityLoss()({'semantic_logits': torch.zeros(1, 1, 1, 4)})
    with pytest.raises(
            ValueError,
            match=r"student_out\['semantic_logits'\] must have shape "
            r'\(B, T, S, N\), got \(2, 4\)'):
        SlotDiversityLoss()({'semantic_logits': torch.zeros(2, 4)})
