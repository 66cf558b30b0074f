"""The video-SSL algorithm base: EMA teacher (parameters and buffers),
frozen-backbone phase, normalisation modes, losses as a list."""
import copy

import pytest
import torch
from torch import nn

from mmsmtc.models.algorithms import BaseVideoSSL
from mmsmtc.models.utils import EMATeacher


class MatchTeacher(nn.Module):
    """A stand-in loss: the student's features against the teacher's."""

    def __init__(self, loss_name='loss_match'):
        super().__init__()
        self.loss_name = loss_name

    def forward(self, student, teacher):
        return (student - teacher).square().mean()


class TinySSL(BaseVideoSSL):
    """The smallest subclass: the backbone's features against the
    teacher's (or its own when it has none)."""

    def _forward(self, inputs, data_samples=None):
        return dict(feats=self.extract_feat(inputs.flatten(0, 1)))

    def loss_inputs(self, inputs, data_samples):
        frames = self.augment(inputs).flatten(0, 1)
        student = self.extract_feat(frames, frozen=self.backbone_frozen())
        with torch.no_grad():
            backbone = self.teacher['backbone'] if self.teacher else None
            target = self.extract_feat(frames, backbone)
        return student, target + 1


def conv_bn():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4))


def build(**kwargs):
    torch.manual_seed(0)
    settings = dict(backbone=conv_bn(), losses=[MatchTeacher()])
    settings.update(kwargs)
    model = TinySSL(**settings)
    model.init_weights()
    return model.train()


def clips(seed=0):
    return torch.randn(2, 2, 3, 8, 8,
                       generator=torch.Generator().manual_seed(seed)) * 3 + 1


def step(model, optimizer, seed=0):
    optimizer.zero_grad()
    losses = model(clips(seed), mode='loss')
    sum(losses.values()).backward()
    optimizer.step()
    return losses


def test_ema_covers_parameters_and_float_buffers_and_copies_the_rest():
    student = dict(backbone=conv_bn(), head=nn.Linear(2, 2))
    teacher = EMATeacher(student, momentum=0.75, frozen_parts=('head', ))
    with torch.no_grad():
        student['backbone'][0].weight.add_(4.0)
        student['backbone'][1].running_mean.fill_(8.0)
        student['backbone'][1].num_batches_tracked.fill_(5)
        student['head'].weight.add_(1.0)
    before = copy.deepcopy(teacher.state_dict())
    teacher.average_from(student)
    weight = teacher['backbone'][0].weight
    torch.testing.assert_close(
        weight, 0.75 * before['backbone.0.weight'] +
        0.25 * student['backbone'][0].weight)
    torch.testing.assert_close(teacher['backbone'][1].running_mean,
                               torch.full((4, ), 2.0))
    assert int(teacher['backbone'][1].num_batches_tracked) == 5
    assert torch.equal(teacher['head'].weight, before['head.weight'])
    teacher.average_from(student, skip=('backbone', ))
    assert torch.equal(teacher['backbone'][0].weight, weight)


def test_teacher_is_a_frozen_copy_in_eval_mode():
    student = dict(backbone=conv_bn())
    teacher = EMATeacher(student, momentum=1.0)
    assert not any(p.requires_grad for p in teacher.parameters())
    teacher.train()
    assert not any(module.training for module in teacher.modules())
    with torch.no_grad():
        student['backbone'][0].bias.add_(1.0)
    frozen = teacher['backbone'][0].bias.clone()
    teacher.average_from(student)
    assert torch.equal(teacher['backbone'][0].bias, frozen)
    teacher.copy_from(student)
    assert torch.equal(teacher['backbone'][0].bias,
                       student['backbone'][0].bias)
    assert list(teacher.state_dict())[0] == 'backbone.0.weight'


@pytest.mark.parametrize('kwargs, message', [
    (dict(momentum=1.5), r'momentum must be in \[0, 1\]'),
    (dict(frozen_parts=('neck', )), r"frozen_parts \['neck'\] are not parts"),
])
def test_teacher_settings_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EMATeacher(dict(backbone=conv_bn()), **kwargs)


def test_model_teacher_starts_as_the_student_and_follows_it_by_ema():
    model = build(teacher=dict(momentum=0.5))
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, model.teacher['backbone'].state_dict()[key])
    optimizer = torch.optim.SGD(model.backbone.parameters(), lr=0.1)
    step(model, optimizer)
    after_first = copy.deepcopy(model.teacher.state_dict())
    student_after_first = copy.deepcopy(model.backbone.state_dict())
    step(model, optimizer, seed=1)  # starts with the EMA of step 1
    for key, value in model.teacher['backbone'].state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(
                value, 0.5 * after_first[f'backbone.{key}'] +
                0.5 * student_after_first[key])


def test_frozen_phase_builds_no_graph_and_freezes_batchnorm_statistics():
    model = build(frozen_backbone_iters=1)
    optimizer = torch.optim.SGD(model.backbone.parameters(), lr=0.1)
    batchnorm = model.backbone[1]
    statistics = batchnorm.running_mean.clone()
    weight = model.backbone[0].weight.clone()
    losses = model(clips(), mode='loss')
    assert not losses['loss_match'].requires_grad
    assert not batchnorm.training and model.backbone[0].training
    assert torch.equal(batchnorm.running_mean, statistics)
    assert torch.equal(model.backbone[0].weight, weight)
    step(model, optimizer)  # the second step trains the backbone
    assert batchnorm.training
    assert not torch.equal(batchnorm.running_mean, statistics)
    assert not torch.equal(model.backbone[0].weight, weight)


def test_teacher_backbone_waits_until_the_student_backbone_trained():
    model = build(frozen_backbone_iters=1, teacher=dict(momentum=0.5))
    with torch.no_grad():
        model.backbone[0].bias.add_(1.0)  # a student the teacher would see
    start = model.teacher['backbone'][0].bias.clone()
    model(clips(), mode='loss')
    model(clips(), mode='loss')  # step 0 was frozen: no teacher update
    assert torch.equal(model.teacher['backbone'][0].bias, start)
    model(clips(), mode='loss')  # step 1 trained the backbone
    assert not torch.equal(model.teacher['backbone'][0].bias, start)


def test_norm_eval_keeps_batchnorm_in_eval_mode():
    model = build(norm_eval=True)
    statistics = model.backbone[1].running_mean.clone()
    model(clips(), mode='loss')
    model.train()
    assert not model.backbone[1].training and model.backbone[0].training
    assert torch.equal(model.backbone[1].running_mean, statistics)


def test_a_frozen_backbone_never_trains():
    model = build(freeze_backbone=True)
    assert not any(p.requires_grad for p in model.backbone.parameters())
    model.train()
    assert not any(module.training for module in model.backbone.modules())
    model(clips(), mode='loss')
    assert model.backbone_frozen(10**6)


def test_losses_need_distinct_loss_names():
    with pytest.raises(ValueError, match=r"losses share the names "
                       r"\['loss_match'\]"):
        build(losses=[MatchTeacher(), MatchTeacher()])
    with pytest.raises(ValueError, match="MatchTeacher needs a loss_name "
                       "starting with 'loss_'"):
        build(losses=[MatchTeacher('match')])
    two = build(losses=[MatchTeacher(), MatchTeacher('loss_again')])
    assert list(two(clips(), mode='loss')) == ['loss_match', 'loss_again']


def test_the_step_counter_counts_loss_calls():
    model = build(frozen_backbone_iters=2)
    for _ in range(3):
        model(clips(), mode='loss')
    assert int(model.num_train_iters) == 3 and not model.backbone_frozen()
    with pytest.raises(ValueError, match='frozen_backbone_iters must be'):
        build(frozen_backbone_iters=-1)
    with pytest.raises(RuntimeError, match='has no teacher'):
        build().branch(teacher=True)


def test_the_backbone_keeps_its_own_mode_policy_after_the_frozen_phase():
    from mmsmtc.models.backbones import ResNet
    model = build(backbone=ResNet(depth=18, out_indices=(0, ),
                                  frozen_stages=0),
                  frozen_backbone_iters=1)
    stem, stage = model.backbone.bn1, model.backbone.layer1[0].bn1
    model(clips(), mode='loss')
    assert not stem.training and not stage.training
    model(clips(seed=1), mode='loss')  # trains: only layer1's BN in train
    assert not stem.training and stage.training


class RunningSum(BaseVideoSSL):
    """A recurrent stand-in: each frame's output is the running sum of the
    frame means over the video, carried between test clips as the state;
    the calls are recorded."""

    carries_clip_state = True

    def __init__(self):
        super().__init__(backbone=nn.Identity(), test_clip_len=2)
        self.states_seen = []

    def predict_clip(self, clip, generator=None, state=None):
        self.states_seen.append(None if state is None else state.item())
        total = torch.zeros(()) if state is None else state
        sums = total + clip.mean(dim=(1, 2, 3)).cumsum(0)
        return dict(pred_sum=sums), sums[-1]


@pytest.mark.parametrize('pad_last_clip', [False, True])
def test_recurrent_state_is_carried_between_clips(pad_last_clip):
    from mmsmtc.structures import VideoDataSample
    model = RunningSum()
    model.pad_last_clip = pad_last_clip
    video = torch.arange(5.0).view(5, 1, 1, 1).expand(5, 3, 2, 2)
    sample = model.predict_video(5, video.__getitem__, VideoDataSample())
    torch.testing.assert_close(sample.pred_sum,
                               torch.tensor([0.0, 1, 3, 6, 10]))
    # a fresh state at the start, then the sum after each previous clip
    assert model.states_seen == [None, 1.0, 6.0]
    model.states_seen.clear()
    model.predict_video(5, video.__getitem__, VideoDataSample())
    assert model.states_seen[0] is None  # no leak between videos


def test_forward_keyword_arguments_reach_loss_inputs_and_forward():
    seen = {}

    class KeywordSSL(TinySSL):

        def _forward(self, inputs, data_samples=None, extra=None):
            seen['tensor'] = extra
            return super()._forward(inputs, data_samples)

        def loss_inputs(self, inputs, data_samples, extra=None):
            seen['loss'] = extra
            return super().loss_inputs(inputs, data_samples)

    model = KeywordSSL(backbone=conv_bn(), losses=[MatchTeacher()])
    model(clips(), mode='tensor', extra=1)
    model(clips(), mode='loss', extra=2)
    assert seen == dict(tensor=1, loss=2)
