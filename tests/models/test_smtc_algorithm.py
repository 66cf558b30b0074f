"""SMTC on the video-SSL base: modes, EMA teacher, frozen encoder, optimiser
groups, prediction."""
import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from torch import nn

from mmsmtc.engine.optimizers import BackboneLrMultOptimWrapperConstructor
from mmsmtc.models.algorithms import SMTC
from mmsmtc.models.utils import clip_frame_indices, stream_clips
from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()

CHANNELS, SLOTS, INSTANCES = 16, 3, 2
OFFICIAL_CONFIG = (Path(__file__).resolve().parents[2] / 'configs' / 'smtc' /
                   'smtc_vit-s16_4xb32-10k_ytvos-256x256.py')


class RecordingLoss(nn.Module):
    """Stand-in loss: remembers what it was given, returns a simple scalar."""

    loss_name = 'loss_recorded'

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, student_out, teacher_out):
        self.calls.append((student_out, teacher_out))
        return (student_out['semantic_logits'].square().mean() +
                student_out['instance_embeddings'].sum() +
                student_out['keys'].mean())


def tiny_cfg(**kwargs):
    cfg = dict(type='SMTC',
               backbone=dict(type='VisionTransformer',
                             arch=dict(patch_size=8,
                                       embed_dim=CHANNELS,
                                       depth=1,
                                       num_heads=2),
                             out_types=('keys', ),
                             pretrain_img_size=32),
               neck=dict(type='CorrelationFusion',
                         in_channels=CHANNELS,
                         grid_size=4),
               head=dict(type='TwoStageSlotAttention',
                         in_channels=CHANNELS,
                         num_slots=SLOTS,
                         num_instances=INSTANCES,
                         iters=3),
               losses=[dict(type='SlotDiversityLoss')])
    cfg.update(kwargs)
    return cfg


@pytest.fixture
def model():
    torch.manual_seed(0)
    return MODELS.build(tiny_cfg(test_clip_len=4))


def test_tensor_mode_shapes_and_composition(model):
    inputs = torch.randn(2, 3, 3, 32, 48)
    noise = torch.randn(6, SLOTS, INSTANCES, CHANNELS)
    out = model(inputs, mode='tensor', instance_noise=noise)
    assert out['keys'].shape == (2, 3, CHANNELS, 4, 6)
    assert out['semantic_logits'].shape == (2, 3, SLOTS, 24)
    assert out['slots'].shape == (2, 3, SLOTS, CHANNELS)
    assert out['instance_logits'].shape == (2, 3, SLOTS, INSTANCES, 24)
    assert out['instance_slots'].shape == (2, 3, SLOTS, INSTANCES, CHANNELS)
    assert out['instance_embeddings'].shape == out['instance_slots'].shape

    keys = model.backbone(inputs.flatten(0, 1))[0]
    fused = model.neck(keys.reshape(2, 3, CHANNELS, 4, 6))
    tokens = fused.permute(0, 1, 3, 4, 2).reshape(6, 24, CHANNELS)
    head_out = model.head(tokens, noise)
    assert torch.equal(out['keys'].flatten(0, 1), keys)
    for name, value in head_out.items():
        assert torch.allclose(out[name].flatten(0, 1), value), name


@pytest.mark.parametrize('size', [(32, 32), (24, 40), (40, 16)])
def test_tensor_mode_at_several_sizes(model, size):
    out = model(torch.randn(1, 2, 3, *size))
    length = (size[0] // 8) * (size[1] // 8)
    assert out['semantic_logits'].shape == (1, 2, SLOTS, length)


def test_instance_noise_makes_outputs_reproducible(model):
    inputs = torch.randn(1, 2, 3, 32, 32)
    noise = torch.randn(2, SLOTS, INSTANCES, CHANNELS)
    first = model(inputs, instance_noise=noise)
    second = model(inputs, instance_noise=noise)
    other = model(inputs, instance_noise=noise + 1)
    for name in first:
        assert torch.equal(first[name], second[name])
    assert torch.equal(first['semantic_logits'], other['semantic_logits'])
    assert not torch.equal(first['instance_slots'], other['instance_slots'])


def test_teacher_starts_equal_frozen_and_in_eval(model):
    model.init_weights()
    for (name,
         student), (_,
                    teacher) in zip(model.head.named_parameters(),
                                    model.teacher['head'].named_parameters()):
        assert torch.equal(student, teacher), name
    assert all(not p.requires_grad for p in model.teacher.parameters())
    model.train()
    assert model.training and model.head.training
    assert not any(m.training for m in model.teacher.modules())


def test_teacher_average_is_the_ema():
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg(teacher=dict(momentum=0.9,
                                               frozen_parts=())))
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(1.0)
    before = copy.deepcopy(model.teacher.state_dict())
    model.teacher.average_from(model.student_parts(), skip=('backbone', ))
    for name, param in model.teacher.named_parameters():
        part, rest = name.split('.', 1)
        student = getattr(model, part).get_parameter(rest)
        if part == 'backbone':
            assert torch.equal(param, before[name]), name
        else:
            expected = before[name] * 0.9 + student * (1 - 0.9)
            assert torch.allclose(param, expected, atol=1e-7), name
    model.teacher.average_from(model.student_parts())
    moved = model.teacher['backbone'].patch_embed.proj.bias
    assert not torch.equal(moved, before['backbone.patch_embed.proj.bias'])


@pytest.mark.parametrize('backbone_follows', [False, True])
def test_teacher_backbone_follows_student_only_when_asked(backbone_follows):
    torch.manual_seed(0)
    frozen_parts = () if backbone_follows else ('backbone', )
    model = MODELS.build(
        tiny_cfg(teacher=dict(momentum=0.5, frozen_parts=frozen_parts)))
    model.train()
    initial = model.teacher['backbone'].patch_embed.proj.bias.clone()
    with torch.no_grad():
        model.backbone.patch_embed.proj.bias.add_(1.0)
    model(torch.randn(1, 2, 3, 32, 32), mode='loss')
    model(torch.randn(1, 2, 3, 32, 32), mode='loss')  # EMA of step 1
    moved = model.teacher['backbone'].patch_embed.proj.bias
    assert torch.equal(moved, initial) != backbone_follows


def test_loss_mode_runs_student_and_teacher(model):
    recorder = RecordingLoss()
    model.losses.insert(0, recorder)
    model.train()
    losses = model(torch.randn(2, 3, 3, 32, 32), mode='loss')
    assert list(losses) == ['loss_recorded', 'loss_diversity']
    student_out, teacher_out = recorder.calls[0]
    assert student_out['slots'].requires_grad
    assert not teacher_out['slots'].requires_grad
    assert teacher_out['keys'].shape == student_out['keys'].shape
    assert int(model.num_train_iters) == 1


def test_teacher_follows_the_student_from_the_second_iteration(model):
    model.train()
    inputs = torch.randn(1, 2, 3, 32, 32)
    model.head.slots_mu.data.add_(1.0)
    teacher_mu = model.teacher['head'].slots_mu.clone()
    model(inputs, mode='loss')
    assert torch.equal(model.teacher['head'].slots_mu, teacher_mu)
    model(inputs, mode='loss')
    expected = 0.999 * teacher_mu + 0.001 * model.head.slots_mu
    assert torch.allclose(model.teacher['head'].slots_mu, expected)


def test_frozen_encoder_has_no_graph_then_trains():
    torch.manual_seed(0)
    recorder = RecordingLoss()
    model = MODELS.build(
        tiny_cfg(frozen_backbone_iters=1, losses=[recorder]))
    model.train()
    inputs = torch.randn(1, 2, 3, 32, 32)
    sum(model(inputs, mode='loss').values()).backward()
    student_out = recorder.calls[-1][0]
    assert not student_out['keys'].requires_grad
    assert all(p.grad is None for p in model.backbone.parameters())
    assert model.neck.transport_proj.weight.grad is not None
    model.zero_grad()
    sum(model(inputs, mode='loss').values()).backward()
    assert recorder.calls[-1][0]['keys'].requires_grad
    assert model.backbone.patch_embed.proj.weight.grad.abs().sum() > 0


def test_optimizer_groups_follow_the_official_split(model):
    constructor = BackboneLrMultOptimWrapperConstructor(
        dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.1)),
        dict(backbone_lr_mult=0.01))
    groups = constructor(model).optimizer.param_groups
    by_name = {group['name']: group for group in groups}
    assert list(by_name) == [
        'backbone_decay', 'backbone_no_decay', 'decay', 'no_decay'
    ]
    assert by_name['backbone_decay']['lr'] == pytest.approx(1e-5)
    assert by_name['backbone_no_decay']['weight_decay'] == 0
    assert by_name['decay']['lr'] == 1e-3
    assert by_name['decay']['weight_decay'] == 0.1
    assert by_name['no_decay']['weight_decay'] == 0
    names = {id(p): n for n, p in model.named_parameters()}
    grouped = {names[id(p)]: g['name'] for g in groups for p in g['params']}
    assert grouped['head.slots_mu'] == 'decay'
    assert grouped['head.norm_input.weight'] == 'no_decay'
    assert grouped['head.project_q.bias'] == 'no_decay'
    assert grouped['backbone.cls_token'] == 'backbone_decay'
    assert grouped['backbone.blocks.0.norm1.weight'] == 'backbone_no_decay'
    assert not any(name.startswith('teacher.') for name in grouped)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert set(grouped) == trainable


def test_encoder_steps_only_after_the_frozen_iters_and_at_the_lr_mult():
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg(frozen_backbone_iters=1))
    model.train()
    optim_wrapper = BackboneLrMultOptimWrapperConstructor(
        dict(optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.0)),
        dict(backbone_lr_mult=0.01))(model)
    data = dict(inputs=torch.randn(1, 2, 3, 32, 32))
    weight = model.backbone.blocks[0].attn.qkv.weight
    before = weight.clone()
    model.train_step(data, optim_wrapper)
    assert torch.equal(weight, before)
    model.train_step(data, optim_wrapper)
    # Adam's first step moves every parameter with a gradient by ~lr.
    assert (weight - before).abs().max().item() == pytest.approx(1e-4,
                                                                 rel=1e-3)


def test_optimizer_constructor_errors():
    with pytest.raises(ValueError, match='unknown keys'):
        BackboneLrMultOptimWrapperConstructor(
            dict(optimizer=dict(type='AdamW', lr=1e-3)), dict(lr_mult=0.1))
    with pytest.raises(ValueError, match='optimizer.lr'):
        BackboneLrMultOptimWrapperConstructor(
            dict(optimizer=dict(type='AdamW')))


def test_train_step_updates_student_and_later_the_teacher(model):
    model.train()
    optim_wrapper = OptimWrapper(
        torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                          lr=1e-2))
    data = dict(inputs=torch.randn(1, 2, 3, 32, 32))
    mu = model.head.slots_mu.clone()
    teacher_mu = model.teacher['head'].slots_mu.clone()
    log_vars = model.train_step(data, optim_wrapper)
    assert set(log_vars) == {'loss', 'loss_diversity'}
    assert not torch.equal(model.head.slots_mu, mu)
    model.train_step(data, optim_wrapper)
    assert not torch.equal(model.teacher['head'].slots_mu, teacher_mu)


def test_clip_frame_indices_follow_the_official_padding():
    assert clip_frame_indices(10, 4) == [[0, 1, 2, 3], [4, 5, 6, 7],
                                         [8, 9, 8, 9]]
    assert clip_frame_indices(8, 4) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert clip_frame_indices(3, 4) == [[0, 1, 2, 2]]
    assert clip_frame_indices(1, 4) == [[0, 0]]
    assert clip_frame_indices(10, 4, pad_last_clip=False)[-1] == [8, 9]
    with pytest.raises(ValueError, match='clip_len must be >= 1'):
        clip_frame_indices(4, 0)


def test_streaming_an_empty_video_is_an_error():
    with pytest.raises(ValueError, match='the video has no frames'):
        stream_clips(0, 4, lambda indices: None, lambda clip: {})


def test_predict_matches_tensor_mode_per_clip(model):
    model.eval()
    video = torch.randn(2, 6, 3, 32, 32)
    samples = model(video,
                    [VideoDataSample(), VideoDataSample()],
                    mode='predict')
    assert samples[0].pred_group_maps.shape == (6, SLOTS, 4, 4)
    assert samples[0].pred_slot_masks.shape == (6, SLOTS * INSTANCES, 4, 4)
    assert samples[0].pred_slot_scores.shape == (6, SLOTS * INSTANCES)
    assert samples[0].pred_slot_groups.tolist() == [0, 0, 1, 1, 2, 2]
    embeddings = samples[0].pred_slot_embeddings
    assert embeddings.shape == (6, SLOTS * INSTANCES, CHANNELS)
    assert torch.allclose(embeddings.norm(dim=-1), torch.ones(6, SLOTS *
                                                              INSTANCES))
    first = model(video[:, :4])['semantic_logits']
    last = model(video[:, [4, 5, 4, 5]])['semantic_logits'][:, :2]
    expected = torch.cat([first, last], dim=1).unflatten(-1, (4, 4))
    assert torch.allclose(samples[1].pred_group_maps, expected[1], atol=1e-6)
    masks = samples[0].pred_slot_masks.unflatten(1, (SLOTS, INSTANCES))
    semantic = samples[0].pred_group_maps.softmax(dim=1)
    assert torch.allclose(masks.sum(2), semantic, atol=1e-5)
    assert samples[0].pred_slot_scores.abs().max() <= 1 + 1e-6


def test_predict_makes_data_samples_and_runs_short_videos(model):
    samples = model.predict(torch.randn(1, 2, 3, 32, 32))
    assert isinstance(samples[0], VideoDataSample)
    assert samples[0].pred_group_maps.shape[0] == 2


def test_predict_takes_normalised_tensors_only(model):
    # lazy videos are decoded by the test-time segmentors
    # (tests/models/test_segmentors.py), not by the model
    videos = [np.random.randint(0, 256, (6, 32, 40, 3), dtype=np.uint8)]
    with pytest.raises(TypeError, match=r'\(B, T, 3, H, W\) tensor'):
        model.predict(videos)


def test_errors(model):
    with pytest.raises(ValueError, match='Invalid mode'):
        model(torch.randn(1, 2, 3, 32, 32), mode='train')
    with pytest.raises(ValueError, match=r'\(B, T, 3, H, W\)'):
        model(torch.randn(2, 3, 32, 32))
    with pytest.raises(TypeError, match='tensor'):
        model([torch.randn(2, 3, 32, 32)])
    with pytest.raises(ValueError, match='2 data samples for 1 videos'):
        model.predict(torch.randn(1, 2, 3, 32, 32),
                      [VideoDataSample(), VideoDataSample()])
    with pytest.raises(ValueError, match='momentum must be in'):
        MODELS.build(tiny_cfg(teacher=dict(momentum=1.5)))
    with pytest.raises(ValueError, match='test_clip_len'):
        MODELS.build(tiny_cfg(test_clip_len=0))
    no_loss = MODELS.build(tiny_cfg(losses=[]))
    with pytest.raises(RuntimeError, match='at least one'):
        no_loss(torch.randn(1, 2, 3, 32, 32), mode='loss')


def test_backbone_output_must_be_a_map():

    class FlatBackbone(nn.Module):

        def forward(self, images):
            return (images.flatten(1), )

    model = SMTC(backbone=FlatBackbone(),
                 neck=dict(type='CorrelationFusion', in_channels=3),
                 head=dict(type='TwoStageSlotAttention', in_channels=3))
    with pytest.raises(ValueError, match='out_index=-1'):
        model(torch.randn(1, 2, 3, 8, 8))


def test_iteration_counter_survives_state_dict_round_trip(model):
    model.train()
    model(torch.randn(1, 2, 3, 32, 32), mode='loss')
    model(torch.randn(1, 2, 3, 32, 32), mode='loss')
    torch.manual_seed(0)
    restored = MODELS.build(tiny_cfg(test_clip_len=4,
                                     frozen_backbone_iters=2))
    assert restored.backbone_frozen()
    restored.load_state_dict(model.state_dict())
    assert int(restored.num_train_iters) == 2
    assert not restored.backbone_frozen()


def _official_shape_step_on_meta(**model_overrides):
    """One trainable-phase SMTC step (EMA update, view augmentation, both
    branches, the three losses, backward, AdamW step) of the official
    ViT-S/16 config on meta tensors."""
    cfg = Config.fromfile(OFFICIAL_CONFIG)
    cfg.model.backbone.init_cfg = None
    cfg.model.frozen_backbone_iters = 0
    for key, value in model_overrides.items():
        cfg.model[key] = value
    model = MODELS.build(cfg.model).train().to('meta')
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    clips = torch.empty(2, 4, 3, 64, 64, device='meta')
    for _ in range(2):  # the second step also updates the teacher
        losses = model.loss(clips)
        optim_wrapper.update_params(sum(losses.values()))
    return losses


def test_training_step_never_reads_values_on_the_host():
    # Meta tensors have no values: .item(), bool(), nonzero, boolean
    # indexing, .cpu() all raise on them, so a step that runs on meta makes
    # no device synchronisation on CUDA (where the official code copies every
    # matching problem to the host).
    losses = _official_shape_step_on_meta()
    assert {value.device.type for value in losses.values()} == {'meta'}


def test_host_reads_are_caught_on_meta():
    # the check above is not vacuous: the official per-problem scipy
    # matching reads the costs back and fails there
    with pytest.raises((NotImplementedError, RuntimeError)):
        _official_shape_step_on_meta(losses=[
            dict(type='InstanceConsistencyLoss', max_enumerated_instances=0)
        ])
