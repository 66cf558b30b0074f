"""MoCo v2 (step 1 of Spa-then-Temp) on a tiny ResNet-18, CPU."""
import math

import pytest
import torch

from mmsmtc.models.losses import InfoNCELoss
from mmsmtc.registry import MODELS
from mmsmtc.utils import register_all_modules

register_all_modules()


def tiny_moco(**kwargs):
    cfg = dict(
        type='MoCo',
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        neck=dict(type='ProjectionMLP', in_channels=512,
                  hidden_channels=64, out_channels=16),
        queue_size=8,
        feat_dim=16,
        teacher=dict(momentum=0.9),
        losses=[dict(type='InfoNCELoss', temperature=0.2)],
        data_preprocessor=dict(type='VideoDataPreprocessor'))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.train()


def views(batch=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 2, 3, 32, 32, generator=generator)


def test_info_nce_closed_form():
    queries = torch.nn.functional.normalize(torch.randn(3, 4), dim=1)
    keys = torch.nn.functional.normalize(torch.randn(3, 4), dim=1)
    queue = torch.nn.functional.normalize(torch.randn(4, 5), dim=0)
    loss = InfoNCELoss(temperature=0.5)(queries, keys, queue)
    expected = 0.0
    for q, k in zip(queries, keys):
        logits = torch.cat([(q @ k)[None], q @ queue]) / 0.5
        expected += -(logits[0] - torch.logsumexp(logits, 0))
    assert float(loss) == pytest.approx(float(expected) / 3, rel=1e-6)
    with pytest.raises(ValueError, match='temperature'):
        InfoNCELoss(temperature=0)


def test_step_enqueues_keys_and_follows_the_query_encoder():
    torch.manual_seed(0)
    model = tiny_moco()
    queue_before = model.queue.clone()
    key_weight = model.teacher['neck'].mlp[0].weight.clone()
    losses = model(views(), mode='loss')
    assert math.isfinite(float(losses['loss_contrastive'].detach()))
    losses['loss_contrastive'].backward()
    assert int(model.queue_ptr) == 4
    assert torch.equal(model.queue[:, 4:], queue_before[:, 4:])
    assert not torch.equal(model.queue[:, :4], queue_before[:, :4])
    torch.testing.assert_close(model.queue[:, :4].norm(dim=0),
                               torch.ones(4))
    # the key encoder gets no gradient and starts as the query encoder
    assert torch.equal(key_weight, model.neck.mlp[0].weight)
    assert all(p.grad is None for p in model.teacher.parameters())
    with torch.no_grad():
        model.neck.mlp[0].weight.add_(1.0)
    model(views(seed=1), mode='loss')  # momentum update before the step
    torch.testing.assert_close(model.teacher['neck'].mlp[0].weight,
                               key_weight + 0.1)
    assert int(model.queue_ptr) == 0  # wrapped around the 8 slots
    assert not model.teacher.training


def test_keys_use_batch_statistics():
    """As officially, the momentum encoder runs in train mode (BatchNorm
    on the batch), then returns to eval mode."""
    model = tiny_moco()
    images = views()[:, 1]
    keys = model._keys(images)
    parts = model.teacher
    for part in parts.values():
        part.train(True)
    with torch.no_grad():
        expected = model.encode(images, teacher=True)
    for part in parts.values():
        part.train(False)
    torch.testing.assert_close(keys, expected)
    assert not model.teacher['backbone'].training


def test_bad_inputs():
    model = tiny_moco()
    with pytest.raises(ValueError, match='two views'):
        model(torch.zeros(2, 3, 3, 32, 32), mode='loss')
    with pytest.raises(ValueError, match='multiple of the global batch'):
        tiny_moco(queue_size=6)(views(), mode='loss')
    with pytest.raises(NotImplementedError, match='moco_to_mmsmtc'):
        model.predict_clip(torch.zeros(1, 3, 32, 32))
