"""Instance consistency loss: hand cases, a loop-and-scipy reference."""
import pytest
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from mmsmtc.models.losses import InstanceConsistencyLoss, valid_instance_mask
from mmsmtc.models.losses.assignment import (enumerate_assignment,
                                             scipy_assignment)
from mmsmtc.registry import MODELS


def reference_valid(logits, slots, instance_slots):
    """The official validity rule, one instance at a time (float64)."""
    batch, frames, num_slots, positions = logits.shape
    num_instances = instance_slots.shape[3]
    valid = torch.zeros(batch, frames, num_slots, num_instances)
    for b in range(batch):
        for t in range(frames):
            probabilities = logits[b, t].double().softmax(0)
            for s in range(num_slots):
                area = (probabilities[s] > 0.3).sum().item() / positions
                slot = slots[b, t, s].double()
                for p in range(num_instances):
                    instance = instance_slots[b, t, s, p].double()
                    cosine = (slot @ instance) / (slot.norm() *
                                                  instance.norm())
                    valid[b, t, s, p] = float(cosine > 0.5 and area > 0.2)
    return valid


def reference_loss(student, teacher, margin=0.5):
    """The official ``object_loss`` from its definition, with scipy."""
    valid = reference_valid(student['semantic_logits'], student['slots'],
                            student['instance_slots'])
    valid_t = reference_valid(teacher['semantic_logits'], teacher['slots'],
                              teacher['instance_slots'])
    embeddings = student['instance_embeddings'].double()
    embeddings_t = teacher['instance_embeddings'].double()
    batch, frames, num_slots, num_instances, _ = embeddings.shape
    total = 0.0
    normaliser = 0.0
    for i in range(frames):
        for j in range(frames):
            normaliser += (valid[:, i].double() + 1e-10).sum().item()
            for b in range(batch):
                for s in range(num_slots):
                    similarity = embeddings[b, i, s] @ embeddings_t[b, j, s].T
                    _, columns = linear_sum_assignment(
                        (1 - similarity).numpy())
                    for p in range(num_instances):
                        q = columns[p]
                        negatives = [
                            max(similarity[p, other].item() - margin, 0.0)
                            for other in range(num_instances) if other != q
                        ]
                        total += valid[b, i, s, p].item() * (
                            sum(negatives) / len(negatives) -
                            valid_t[b, j, s, q].item() *
                            similarity[p, q].item())
    return total / normaliser


def random_outputs(generator,
                   batch=2,
                   frames=3,
                   num_slots=3,
                   num_instances=4,
                   channels=8,
                   dim=6,
                   positions=20):
    """Model outputs with a mix of valid and invalid instances."""
    slots = torch.randn(batch, frames, num_slots, channels,
                        generator=generator)
    noise = torch.randn(batch, frames, num_slots, num_instances, channels,
                        generator=generator)
    return {
        'semantic_logits':
        2 * torch.randn(batch, frames, num_slots, positions,
                        generator=generator),
        'slots':
        slots,
        'instance_slots':
        slots.unsqueeze(3) + 1.2 * noise,
        'instance_embeddings':
        F.normalize(
            torch.randn(batch, frames, num_slots, num_instances, dim,
                        generator=generator),
            dim=-1),
    }


def single_slot_outputs(embeddings, instance_slots=None):
    """Outputs of ``B = T = S = 1`` with the given ``(P, D)`` embeddings.

    With one slot every position belongs to it, so instance ``p`` is valid
    exactly when ``instance_slots[p]`` has positive enough cosine with the
    slot ``(1, 0)``; by default all are valid.
    """
    num_instances = embeddings.shape[0]
    if instance_slots is None:
        instance_slots = torch.tensor([[1., 0.]]).repeat(num_instances, 1)
    return {
        'semantic_logits': torch.zeros(1, 1, 1, 4),
        'slots': torch.tensor([1., 0.]).view(1, 1, 1, 2),
        'instance_slots': instance_slots.view(1, 1, 1, num_instances, 2),
        'instance_embeddings': embeddings.view(1, 1, 1, num_instances, -1),
    }


def test_valid_instance_mask_by_hand():
    # Two slots over five positions; slot 0 wins (probability 0.88 > 0.3)
    # at one position (area 1/5 = 0.2, not > 0.2) in frame 0 and at two
    # (area 0.4) in frame 1. Slot 1 wins the rest.
    logits = torch.zeros(1, 2, 2, 5)
    logits[0, 0, 0, 0] = 2.0
    logits[0, 0, 1, 1:] = 2.0
    logits[0, 1, 0, :2] = 2.0
    logits[0, 1, 1, 2:] = 2.0
    slots = torch.tensor([1., 0.]).expand(1, 2, 2, 2)
    # cos 0.6 (valid), cos 1/sqrt(5) = 0.447 (invalid), cos 0 (zero vector).
    instances = torch.tensor([[3., 4.], [1., 2.], [0., 0.]])
    instance_slots = instances.expand(1, 2, 2, 3, 2)
    valid = valid_instance_mask(logits, slots, instance_slots)
    expected = torch.tensor([[[[0., 0., 0.], [1., 0., 0.]],
                              [[1., 0., 0.], [1., 0., 0.]]]])
    assert torch.equal(valid, expected)
    assert torch.equal(valid, reference_valid(logits, slots, instance_slots))


def test_swapped_instances_by_hand():
    student = single_slot_outputs(torch.eye(2))
    teacher = single_slot_outputs(torch.eye(2).flip(0))
    loss_module = InstanceConsistencyLoss()
    # Each instance matches its swapped twin (similarity 1, negatives 0).
    torch.testing.assert_close(
        loss_module(student, teacher), torch.tensor(-1.0))
    # Teacher instance 1 invalid: student instance 0, matched to it, no
    # longer pulls; the normaliser counts the two valid student instances.
    teacher['instance_slots'] = torch.tensor([[1., 0.],
                                              [0., 1.]]).view(1, 1, 1, 2, 2)
    torch.testing.assert_close(
        loss_module(student, teacher), torch.tensor(-0.5))


def test_margin_by_hand():
    student = single_slot_outputs(torch.eye(2))
    teacher = single_slot_outputs(torch.tensor([[0.8, 0.6], [0.6, 0.8]]))
    # Matches 0 -> 0, 1 -> 1 (0.8 each); each negative at 0.6 costs 0.1.
    torch.testing.assert_close(
        InstanceConsistencyLoss()(student, teacher), torch.tensor(-0.7))


def test_optimal_not_greedy_matching_by_hand():
    # Similarities 1 - cost / 10 of the cost [[4, 1, 3], [2, 0, 5],
    # [3, 2, 2]]: greedy would take the 1.0 at (1, 1); the optimum is
    # 0 -> 1, 1 -> 0, 2 -> 2 (0.9 + 0.8 + 0.8).
    similarity = torch.tensor([[0.6, 0.9, 0.7], [0.8, 1.0, 0.5],
                               [0.7, 0.8, 0.8]])
    instance_slots = torch.tensor([[1., 0.]]).repeat(3, 1)
    student = single_slot_outputs(similarity, instance_slots)
    teacher = single_slot_outputs(torch.eye(3), instance_slots)
    # Row 0: negatives 0.6, 0.7 -> (0.1 + 0.2) / 2 - 0.9 = -0.75
    # Row 1: negatives 1.0, 0.5 -> (0.5 + 0.0) / 2 - 0.8 = -0.55
    # Row 2: negatives 0.7, 0.8 -> (0.2 + 0.3) / 2 - 0.8 = -0.55
    expected = torch.tensor((-0.75 - 0.55 - 0.55) / 3)
    torch.testing.assert_close(
        InstanceConsistencyLoss()(student, teacher), expected)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_equals_reference_on_random_outputs(seed):
    generator = torch.Generator().manual_seed(seed)
    student = random_outputs(generator)
    teacher = random_outputs(generator)
    valid = valid_instance_mask(student['semantic_logits'], student['slots'],
                                student['instance_slots'])
    assert 0.2 < valid.mean() < 0.8, 'the case should mix valid and invalid'
    loss = InstanceConsistencyLoss()(student, teacher)
    expected = reference_loss(student, teacher)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(
        loss.double(), torch.tensor(expected, dtype=torch.float64),
        rtol=1e-6, atol=1e-6)
    scipy_loss = InstanceConsistencyLoss(max_enumerated_instances=1)(
        student, teacher)
    torch.testing.assert_close(scipy_loss, loss, rtol=1e-6, atol=1e-7)


def test_tied_matchings_give_the_reference_value():
    generator = torch.Generator().manual_seed(5)
    student = random_outputs(generator, frames=2)
    teacher = random_outputs(generator, frames=2)
    # Duplicate teacher instances 2 -> 3 and student instances 0 -> 1
    # (embeddings and instance slots): many exactly tied optima.
    for outputs, source, copy in ((teacher, 2, 3), (student, 0, 1)):
        for key in ('instance_slots', 'instance_embeddings'):
            outputs[key][:, :, :, copy] = outputs[key][:, :, :, source]
    similarity = torch.einsum('bispd,bjsqd->bijspq',
                              student['instance_embeddings'],
                              teacher['instance_embeddings'])
    cost = (1 - similarity).reshape(-1, 4, 4)
    differs = enumerate_assignment(cost) != scipy_assignment(cost)
    assert differs.any(), 'some tie should be broken unlike scipy'
    loss = InstanceConsistencyLoss()(student, teacher)
    torch.testing.assert_close(
        loss.double(),
        torch.tensor(reference_loss(student, teacher), dtype=torch.float64),
        rtol=1e-6,
        atol=1e-6)


def test_gradients_reach_only_the_embeddings():
    generator = torch.Generator().manual_seed(6)
    student = random_outputs(generator)
    teacher = random_outputs(generator)
    for outputs in (student, teacher):
        for tensor in outputs.values():
            tensor.requires_grad_(True)
    InstanceConsistencyLoss()(student, teacher).backward()
    for outputs in (student, teacher):
        assert outputs['instance_embeddings'].grad.abs().sum() > 0
        for key in ('semantic_logits', 'slots', 'instance_slots'):
            assert outputs[key].grad is None, key


def test_low_precision_inputs_and_autocast():
    generator = torch.Generator().manual_seed(7)
    student = random_outputs(generator)
    teacher = random_outputs(generator)
    loss_module = InstanceConsistencyLoss()
    full = loss_module(student, teacher)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        autocast_loss = loss_module(student, teacher)
    assert autocast_loss.dtype == torch.float32
    torch.testing.assert_close(autocast_loss, full, rtol=0, atol=0)
    for dtype in (torch.float16, torch.bfloat16):
        rounded = [{key: value.to(dtype)
                    for key, value in outputs.items()}
                   for outputs in (student, teacher)]
        low = loss_module(*rounded)
        assert low.isfinite()
        exact = loss_module(*[{key: value.float()
                               for key, value in outputs.items()}
                              for outputs in rounded])
        torch.testing.assert_close(low, exact, rtol=0, atol=0)


def test_weight_and_registry():
    generator = torch.Generator().manual_seed(8)
    student = random_outputs(generator)
    teacher = random_outputs(generator)
    loss_module = MODELS.build(
        dict(type='InstanceConsistencyLoss', loss_weight=2.5))
    torch.testing.assert_close(
        loss_module(student, teacher),
        2.5 * InstanceConsistencyLoss()(student, teacher))


def test_no_valid_instance_gives_zero():
    generator = torch.Generator().manual_seed(9)
    student = random_outputs(generator)
    teacher = random_outputs(generator)
    # Every instance slot opposite to its semantic slot: cosine -1.
    student['instance_slots'] = -student['slots'].unsqueeze(3).expand_as(
        student['instance_slots'])
    assert InstanceConsistencyLoss()(student, teacher) == 0


def test_shape_errors_name_the_tensor():
    generator = torch.Generator().manual_seed(10)
    student = random_outputs(generator)
    teacher = random_outputs(generator, num_instances=3)
    loss_module = InstanceConsistencyLoss()
    with pytest.raises(
            ValueError,
            match=r"teacher_out\['instance_slots'\] must have shape "
            r'\(B, T, S, P, C\) with P=4'):
        loss_module(student, teacher)
    with pytest.raises(KeyError, match=r"student_out\['slots'\] is missing"):
        loss_module({
            key: value
            for key, value in student.items() if key != 'slots'
        }, student)
    single = random_outputs(generator, num_instances=1)
    with pytest.raises(ValueError, match='needs P >= 2'):
        loss_module(single, single)


def test_never_reads_values_on_the_host():
    # Meta tensors have no values: any host read (a device synchronisation
    # on CUDA) would raise; the official scipy matching would.
    generator = torch.Generator().manual_seed(11)
    student, teacher = [{
        key: value.to('meta')
        for key, value in random_outputs(generator).items()
    } for _ in range(2)]
    loss = InstanceConsistencyLoss()(student, teacher)
    assert loss.device.type == 'meta' and loss.shape == ()


@pytest.mark.gpu
def test_no_device_synchronisation_on_cuda():
    generator = torch.Generator().manual_seed(12)
    student, teacher = [{
        key: value.cuda()
        for key, value in random_outputs(generator).items()
    } for _ in range(2)]
    loss_module = InstanceConsistencyLoss()
    loss_module(student, teacher)  # caches the permutation table
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        with torch.autocast('cuda', dtype=torch.float16):
            loss = loss_module(student, teacher)
    finally:
        torch.cuda.set_sync_debug_mode('default')
    cpu = [{key: value.cpu()
            for key, value in outputs.items()}
           for outputs in (student, teacher)]
    assert loss.item() == pytest.approx(reference_loss(*cpu), abs=1e-5)
