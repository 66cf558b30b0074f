"""SpaThenTemp (temporal step) and its losses on tiny ResNets, CPU."""
import pytest
import torch

from mmsmtc.models.losses.correspondence_losses import (masked_mse,
                                                        point_uncertainty,
                                                        pool_affinity,
                                                        select_points)
from mmsmtc.registry import MODELS
from mmsmtc.utils import register_all_modules

register_all_modules()

LOSSES = [
    dict(type='ChromaReconstructionLoss', level=0),
    dict(type='ChromaReconstructionLoss', level=1),
    dict(type='LocalCorrelationDistillLoss'),
    dict(type='GlobalCorrelationDistillLoss'),
]


def tiny_model(**kwargs):
    cfg = dict(
        type='SpaThenTemp',
        backbone=dict(type='ResNet', depth=18, out_indices=(1, 2, 3),
                      stem_pool='none', stage_strides=(1, 2, 2, 4)),
        teacher_backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        radius=(4, 2),
        downsample_rate=(4, 8),
        losses=LOSSES,
        data_preprocessor=dict(type='VideoDataPreprocessor'))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def clips(seed=0, size=64):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (2, 2, 3, size, size), generator=generator,
                         dtype=torch.uint8)


def test_loss_step_trains_the_student_only():
    torch.manual_seed(0)
    model = tiny_model().train()
    teacher_state = {k: v.clone()
                     for k, v in model.teacher_backbone.state_dict().items()}
    data = model.data_preprocessor(dict(inputs=clips()), True)
    losses = model(data['inputs'], mode='loss')
    assert sorted(losses) == ['loss_global_corrdis', 'loss_local_corrdis',
                              'loss_stage0_l1', 'loss_stage1_l1']
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert not model.teacher_backbone.training
    for name, value in model.teacher_backbone.state_dict().items():
        assert torch.equal(value, teacher_state[name]), name
    assert all(p.grad is None for p in model.teacher_backbone.parameters())
    for stage in ('layer2', 'layer3', 'layer4'):
        grads = [p.grad for n, p in model.backbone.named_parameters()
                 if n.startswith(stage) and p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads), stage


def test_student_geometry_and_pairing():
    model = tiny_model().train()
    data = model.data_preprocessor(dict(inputs=clips()), True)
    outputs = model(data['inputs'], mode='tensor', drop_channel=1)
    grids = [level['target'].shape[-2:] for level in outputs['levels']]
    assert grids == [(16, 16), (8, 8)]
    assert outputs['global']['target'].shape[-2:] == (2, 2)
    assert outputs['teacher'][0].shape[-2:] == (2, 2)
    assert outputs['levels'][0]['affinity'].shape == (2, 256, 256)
    # target = frame 1, reference = frame 0
    with torch.no_grad():
        lab = outputs['lab']
        feats = model.backbone(model.drop_chroma(lab, 1).flatten(0, 1))
    torch.testing.assert_close(outputs['levels'][1]['target'],
                               feats[1].unflatten(0, (2, 2))[:, 1])


def test_drop_chroma_and_draw():
    model = tiny_model()
    lab = torch.randn(1, 2, 3, 4, 4)
    dropped = model.drop_chroma(lab, 2)
    assert dropped[:, :, 2].eq(0).all()
    torch.testing.assert_close(dropped[:, :, :2], lab[:, :, :2] * 1.5)
    generator = torch.Generator().manual_seed(0)
    draws = {model.draw_drop_channel(generator) for _ in range(20)}
    assert draws == {1, 2}
    with pytest.raises(ValueError, match='dropped channel'):
        model.drop_chroma(lab, 0)


def test_seeded_steps_are_deterministic():
    values = []
    for _ in range(2):
        torch.manual_seed(3)
        model = tiny_model().train()
        data = model.data_preprocessor(dict(inputs=clips()), True)
        values.append({k: float(v.detach())
                       for k, v in model(data['inputs'],
                                         mode='loss').items()})
    assert values[0] == values[1]


def test_bad_inputs():
    model = tiny_model()
    with pytest.raises(ValueError, match='frame'):
        model(torch.zeros(1, 3, 3, 64, 64), mode='tensor')
    with pytest.raises(ValueError, match='radius and downsample_rate'):
        tiny_model(radius=(4, ), downsample_rate=(4, 8))
    with pytest.raises(NotImplementedError, match='label propagation'):
        model.predict_clip(torch.zeros(2, 3, 64, 64))


def test_select_points_row_threshold_by_hand():
    # 4x4, ratio 0.75 -> k = int(4 * 0.75) - 1 = 2: sorted row 2 is the
    # threshold of every row, column by column
    values = torch.tensor([[15., 1, 5, 3], [2, 14, 6, 4], [7, 12, 0, 9],
                           [10, 8, 11, 13]])[None]
    threshold = torch.tensor([12., 9, 7, 0])  # row 2 sorted descending
    expected = values > threshold
    assert torch.equal(select_points(values, 0.75, 'row'), expected)
    # per image: the int(16 * 0.75) - 1 = 11 largest, i.e. values > 4
    assert torch.equal(select_points(values, 0.75, 'image'), values > 4)
    with pytest.raises(ValueError, match='threshold'):
        select_points(values, 0.75, 'column')


def test_point_uncertainty_kinds():
    correlation = torch.zeros(1, 3, 3, 2, 2)
    correlation[0, 1, 1, 0, 0] = 50.0  # peaked at (0, 0)
    probs = correlation.flatten(1, 2).softmax(1)
    neg_log = point_uncertainty(correlation)
    entropy = point_uncertainty(correlation, 'entropy')
    torch.testing.assert_close(neg_log,
                               -torch.log(probs + 1e-12).sum(1))
    # the official sum is largest for the peaked point, entropy smallest
    assert neg_log[0, 0, 0] > neg_log[0, 1, 1]
    assert entropy[0, 0, 0] < entropy[0, 1, 1]
    with pytest.raises(ValueError, match='uncertainty'):
        point_uncertainty(correlation, 'shannon')


def test_pool_affinity_block_average_and_row_sums():
    generator = torch.Generator().manual_seed(0)
    affinity = torch.rand(1, 16, 16, generator=generator,
                          dtype=torch.float64).softmax(-1)
    pooled = pool_affinity(affinity, (4, 4), 2)
    # direct: 2x2 query block x 2x2 key block average
    blocks = affinity.view(1, 2, 2, 2, 2, 2, 2, 2, 2)  # qy qy' qx qx' ...
    direct = blocks.mean(dim=(2, 4, 6, 8)).reshape(1, 4, 4)
    torch.testing.assert_close(pooled, direct)
    torch.testing.assert_close(pooled.sum(-1),
                               torch.full((1, 4), 0.25, dtype=torch.float64))
    torch.testing.assert_close(
        pool_affinity(affinity, (4, 4), 2, 'sum').sum(-1),
        torch.ones(1, 4, dtype=torch.float64))


def test_masked_mse():
    pred, target = torch.ones(1, 3, 3), torch.zeros(1, 3, 3)
    mask = torch.tensor([[True, False, True]])
    assert float(masked_mse(pred, target, mask)) == pytest.approx(1.0)
    assert float(masked_mse(pred, target, torch.zeros(1, 3,
                                                      dtype=bool))) == 0


def test_temporal_only_variant_without_teacher():
    model = tiny_model(
        backbone=dict(type='ResNet', depth=18, out_indices=(1, 2),
                      stem_pool='none', stage_strides=(1, 2, 2)),
        teacher_backbone=None, losses=LOSSES[:3]).train()
    data = model.data_preprocessor(dict(inputs=clips()), True)
    losses = model(data['inputs'], mode='loss')
    assert sorted(losses) == ['loss_local_corrdis', 'loss_stage0_l1',
                              'loss_stage1_l1']
    global_loss = MODELS.build(LOSSES[3])
    with pytest.raises(KeyError, match='teacher_backbone'):
        global_loss(model(data['inputs'], mode='tensor', drop_channel=1))
