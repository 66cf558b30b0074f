"""Test-time segmentors: wiring checked against independent computations,
checkpoint fitting and every error branch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmsmtc.apis import (first_frame_labels, joint_label_maps, joints_to_grid,
                         label_grid_size, propagate_labels_dense,
                         read_out_keypoints, soft_labels_to_ids)
from mmsmtc.models.discovery import ObjectDiscoveryPostProcessor
from mmsmtc.models.segmentors import (LabelPropagationSegmentor,
                                      ObjectDiscoverySegmentor)
from mmsmtc.models.utils import video_generator
from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from mmsmtc.utils import register_all_modules
from mmsmtc.utils.checkpoint import CheckpointError

register_all_modules()

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


def tiny_vit(embed_dim=16):
    return dict(
        type='VisionTransformer',
        arch=dict(patch_size=8, embed_dim=embed_dim, depth=1, num_heads=2),
        out_types=('tokens', ),
        pretrain_img_size=32)


def propagator(**overrides):
    settings = dict(
        type='LabelPropagator', backbone=tiny_vit(), out_index=0, topk=4,
        radius=3, temperature=0.1, n_context=2)
    settings.update(overrides)
    return settings


def make_video(num_frames=5, size=(36, 44), seed=0):
    """``(T, H, W, 3)`` uint8 frames with a moving square; frame-0 ids."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 60, (num_frames, *size, 3), dtype=np.uint8)
    for t in range(num_frames):
        frames[t, 8:20, 6 + t:18 + t] = (220, 40, 40)
        frames[t, 22:30, 26:36] = (40, 200, 60)
    annotation = np.zeros(size, np.uint8)
    annotation[8:20, 6:18] = 1
    annotation[22:30, 26:36] = 3
    return frames, annotation


def mask_sample(annotation, indices=(0, )):
    sample = VideoDataSample(metainfo=dict(video_name='square'))
    sample.gt_masks = annotation[None]
    sample.gt_mask_frame_indices = np.array(indices)
    return sample


def build(**overrides):
    settings = dict(propagator=propagator(), stride=8)
    settings.update(overrides)
    model = LabelPropagationSegmentor(**settings)
    model.init_weights()
    return model.eval()


def direct_soft_labels(model, frames, first_labels, stride=8, size=None,
                       upsample=None, rounding='floor'):
    """The protocol computed directly with the dense reference: ``(T, K, h,
    w)`` soft labels, the label grid and the input size."""
    video = (torch.from_numpy(frames).permute(0, 3, 1, 2).float() - MEAN) / STD
    height, width = frames.shape[1:3]
    size = size or (height // stride * stride, width // stride * stride)
    video = F.interpolate(video, size=size, mode='bilinear',
                          align_corners=False)
    grid = label_grid_size(*size, stride, rounding)
    with torch.no_grad():
        feats = model.propagator.backbone(video)[0]
    if upsample:
        feats = F.interpolate(feats, scale_factor=upsample, mode='bilinear',
                              align_corners=False)
    feats = F.interpolate(feats, size=grid, mode='bilinear',
                          align_corners=False) \
        if tuple(feats.shape[-2:]) != grid else feats
    labels = first_labels(grid, size)
    return propagate_labels_dense(
        feats, labels, topk=4, radius=3, temperature=0.1, n_context=2)


def expected_ids(model, frames, annotation, values=None, **kwargs):
    """Ids read out of :func:`direct_soft_labels` of a mask annotation."""
    chosen = {}

    def mask_labels(grid, size):
        labels, chosen['values'] = first_frame_labels(annotation, grid,
                                                      values)
        return labels

    soft = direct_soft_labels(model, frames, mask_labels, **kwargs)
    return np.stack([
        soft_labels_to_ids(frame, chosen['values'], frames.shape[1:3])
        for frame in soft
    ])


@pytest.mark.parametrize('frame_batch_size', [1, 3])
def test_instance_propagation_matches_direct_protocol(frame_batch_size):
    frames, annotation = make_video()
    model = build(frame_batch_size=frame_batch_size)
    (sample, ) = model.test_step(
        dict(inputs=[frames], data_samples=[mask_sample(annotation)]))
    assert sample.pred_masks.dtype == np.uint8
    assert sample.pred_masks.shape == (5, 36, 44)
    np.testing.assert_array_equal(sample.pred_masks,
                                  expected_ids(model, frames, annotation))
    assert set(np.unique(sample.pred_masks)) <= {0, 1, 3}


def test_class_labels_match_the_protocol():
    frames, annotation = make_video()
    model = build(label_type='classes', num_classes=5, input_size=(32, 32))
    (sample, ) = model.predict([frames], [mask_sample(annotation)])
    assert sample.pred_masks.shape == (5, 36, 44)
    # one channel per class 0..4 (2 and 4 absent from frame 0), read out as
    # class ids, exactly as the protocol computed directly
    np.testing.assert_array_equal(
        sample.pred_masks,
        expected_ids(model, frames, annotation, values=range(5),
                     size=(32, 32)))
    with pytest.raises(ValueError, match='square: annotation holds ids'):
        build(label_type='classes', num_classes=2).predict(
            [frames], [mask_sample(annotation)])


def test_keypoints_follow_the_protocol_in_every_frame():
    frames, _ = make_video()
    joints = np.array([[12.0, 14.0], [30.0, 26.0]], np.float32)
    sample = VideoDataSample(metainfo=dict(video_name='pose'))
    sample.gt_keypoints = np.repeat(joints[None], 5, 0)
    model = build(label_type='keypoints', input_size=(32, 32),
                  grid_rounding='ceil')
    (sample, ) = model.predict([frames], [sample])
    assert sample.pred_keypoints.shape == (5, 2, 2)
    assert sample.pred_keypoints.dtype == np.float32
    soft = direct_soft_labels(
        model, frames, lambda grid, size: joint_label_maps(
            joints_to_grid(joints, (36, 44), 8, size), grid),
        size=(32, 32), rounding='ceil')
    expected = np.stack(
        [read_out_keypoints(frame, (36, 44), 3) for frame in soft])
    np.testing.assert_allclose(sample.pred_keypoints, expected, rtol=1e-6)
    cell = np.array([44 / 4, 36 / 4])
    assert (np.abs(sample.pred_keypoints[0] - joints) <= cell).all()


def test_stride_8_variant_upsamples_features():
    frames, annotation = make_video(size=(40, 48))
    model = build(propagator=propagator(feature_upsample=2), stride=4)
    (sample, ) = model.predict([frames], [mask_sample(annotation[:40, :48])])
    assert sample.pred_masks.shape == (5, 40, 48)
    np.testing.assert_array_equal(
        sample.pred_masks,
        expected_ids(model, frames, annotation[:40, :48], stride=4,
                     upsample=2))


def test_a_stride_that_does_not_match_the_backbone_is_an_error():
    frames, annotation = make_video(size=(40, 48))
    # patch-8 tokens (5x6 grid) on a stride-4 label grid (10x12)
    model = build(stride=4)
    with pytest.raises(ValueError, match=r'5x6 feature map but the label '
                       r'grid is 10x12.*stride does not match'):
        model.predict([frames], [mask_sample(annotation[:40, :48])])


@pytest.mark.parametrize('kwargs, message', [
    (dict(label_type='parts'), 'label_type must be one of'),
    (dict(checkpoint_prefix=3), 'checkpoint_prefix must be a string'),
    (dict(input_size=(0, 8)), 'input_size must be'),
    (dict(stride=0), 'stride must be a positive integer'),
    (dict(frame_batch_size=0), 'frame_batch_size must be >= 1'),
])
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**kwargs)


def test_bad_inputs_name_the_video():
    frames, annotation = make_video()
    model = build()
    with pytest.raises(ValueError, match="test-only: mode must be 'predict'"):
        model([frames], [mask_sample(annotation)], mode='loss')
    with pytest.raises(KeyError, match="square: mask propagation needs"):
        model.predict([frames], [VideoDataSample(
            metainfo=dict(video_name='square'))])
    with pytest.raises(ValueError, match='first annotated frame is frame 2'):
        model.predict([frames], [mask_sample(annotation, indices=(2, ))])
    with pytest.raises(ValueError, match='square: first-frame annotation has'):
        model.predict([frames], [mask_sample(np.zeros_like(annotation))])
    with pytest.raises(ValueError, match='smaller than the stride 8'):
        model.predict([frames[:, :6]], [mask_sample(annotation[:6])])
    with pytest.raises(KeyError, match="needs 'gt_keypoints'"):
        build(label_type='keypoints').predict([frames],
                                              [mask_sample(annotation)])


def save_state(path, state):
    torch.save(dict(state_dict=state), path)
    return str(path)


def test_encoder_of_an_smtc_checkpoint_loads(tmp_path):
    model = build()
    donor = MODELS.build(tiny_vit())
    donor.init_weights()
    student = {f'backbone.{k}': v for k, v in donor.state_dict().items()}
    teacher = {f'teacher.backbone.{k}': v + 1
               for k, v in donor.state_dict().items()}
    path = save_state(tmp_path / 'smtc.pth', {**student, **teacher})
    model.load_test_checkpoint(path)
    for key, value in donor.state_dict().items():
        torch.testing.assert_close(
            model.propagator.backbone.state_dict()[key], value)
    teacher_model = build(checkpoint_prefix='teacher.backbone.')
    teacher_model.load_test_checkpoint(path)
    torch.testing.assert_close(
        teacher_model.propagator.backbone.cls_token, donor.cls_token + 1)


def test_checkpoint_of_another_width_is_refused(tmp_path):
    donor = MODELS.build(tiny_vit(embed_dim=32))
    path = save_state(tmp_path / 'wide.pth', {
        f'backbone.{k}': v
        for k, v in donor.state_dict().items()
    })
    with pytest.raises(CheckpointError,
                       match=r'wide\.pth: does not fit the backbone '
                       r'\(VisionTransformer\).*shape mismatch.*\(1, 1, 32\) '
                       r'in the checkpoint vs \(1, 1, 16\) in the model'):
        build().load_test_checkpoint(path)


def test_checkpoint_without_tensors_is_refused(tmp_path):
    path = tmp_path / 'empty.pth'
    torch.save(dict(meta=dict(epoch=1)), path)
    with pytest.raises(CheckpointError, match='empty.pth: holds no tensors'):
        build().load_test_checkpoint(str(path))


def tiny_smtc(embed_dim=16):
    return dict(
        type='SMTC',
        backbone=dict(
            type='VisionTransformer',
            arch=dict(patch_size=8, embed_dim=embed_dim, depth=1,
                      num_heads=2),
            out_types=('keys', ),
            pretrain_img_size=32),
        neck=dict(type='CorrelationFusion', in_channels=embed_dim,
                  grid_size=4),
        head=dict(type='TwoStageSlotAttention', in_channels=embed_dim,
                  num_slots=3, num_instances=2, iters=2),
        test_clip_len=4)


def discovery(**overrides):
    settings = dict(
        model=tiny_smtc(),
        post_processor=dict(type='ObjectDiscoveryPostProcessor',
                            score_threshold=-1.0, background_rule='none'),
        input_size=(32, 32),
        size_multiple=8)
    settings.update(overrides)
    model = ObjectDiscoverySegmentor(**settings)
    model.init_weights()
    return model.eval()


def normalised_video(frames, size=(32, 32)):
    video = (torch.from_numpy(frames).permute(0, 3, 1, 2).float() - MEAN) / STD
    return F.interpolate(video, size=size, mode='bilinear',
                         align_corners=False)


def test_discovery_streams_clips_like_smtc_predict():
    """Clip-by-clip decoding equals SMTC's predict on the whole normalised
    video with the same per-video generator."""
    frames, _ = make_video(num_frames=6)
    model = discovery()
    sample = VideoDataSample(metainfo=dict(video_name='v', ori_shape=(36, 44)))
    (result, ) = model.predict([frames], [sample])
    reference = VideoDataSample(
        metainfo=dict(video_name='v', ori_shape=(36, 44)))
    model.model.predict_video(6, normalised_video(frames).__getitem__,
                              reference, video_generator(0, 'v'))
    ObjectDiscoveryPostProcessor(
        score_threshold=-1.0, background_rule='none').process(reference)
    assert result.pred_masks.shape == (6, 36, 44)
    assert result.pred_masks.dtype == np.uint8
    assert result.pred_masks.max() >= 1
    np.testing.assert_array_equal(result.pred_masks, reference.pred_masks)
    # The slot outputs stay on the sample (feature grid, video frames
    # first) for the visualisation hook and --dump.
    for field in ('pred_group_maps', 'pred_slot_masks', 'pred_slot_scores',
                  'pred_slot_embeddings'):
        assert result.get(field).shape[0] == 6
        torch.testing.assert_close(result.get(field), reference.get(field))
    assert result.pred_group_maps.shape == (6, 3, 4, 4)
    assert result.pred_slot_masks.shape == (6, 6, 4, 4)
    assert result.pred_slot_groups.tolist() == [0, 0, 1, 1, 2, 2]
    assert result.metainfo['mask_fields'] == ('pred_group_maps',
                                              'pred_slot_masks')


def test_test_time_noise_is_drawn_per_video():
    """A video's slots do not depend on the global generator or on the
    videos tested before it; another name or seed draws other noise."""
    frames, _ = make_video(num_frames=5)
    other, _ = make_video(num_frames=3, seed=1)
    model = discovery()

    def slots(video_name, seed=0, before=()):
        model.test_seed = seed
        for frames_before in before:
            model.predict([frames_before], [VideoDataSample(
                metainfo=dict(video_name='other', ori_shape=(36, 44)))])
        sample = VideoDataSample(
            metainfo=dict(video_name=video_name, ori_shape=(36, 44)))
        return model.predict([frames], [sample])[0].pred_slot_masks

    torch.manual_seed(0)
    first = slots('v')
    torch.manual_seed(123)
    torch.testing.assert_close(slots('v', before=[other]), first,
                               rtol=0, atol=0)
    assert not torch.equal(slots('w'), first)
    assert not torch.equal(slots('v', seed=1), first)


def test_single_object_discovery_gives_a_foreground():
    frames, _ = make_video(num_frames=3)
    model = discovery(post_processor=dict(
        type='SingleObjectPostProcessor',
        discovery=dict(score_threshold=-1.0, background_rule='none')))
    sample = VideoDataSample(metainfo=dict(video_name='v', ori_shape=(36, 44)))
    (result, ) = model.predict([frames], [sample])
    assert set(np.unique(result.pred_masks)) <= {0, 1}
    # the foreground is the union of what multi-object discovery finds
    multi = discovery().predict([frames], [VideoDataSample(
        metainfo=dict(video_name='v', ori_shape=(36, 44)))])[0]
    assert result.pred_masks.any()
    np.testing.assert_array_equal(result.pred_masks, multi.pred_masks > 0)


def test_discovery_checkpoints(tmp_path):
    donor = MODELS.build(tiny_smtc())
    donor.init_weights()
    with torch.no_grad():
        for parameter in donor.teacher.parameters():
            parameter.add_(1)
    path = save_state(tmp_path / 'smtc.pth', donor.state_dict())
    student = discovery()
    student.load_test_checkpoint(path)
    torch.testing.assert_close(student.model.backbone.cls_token,
                               donor.backbone.cls_token)
    model = discovery(checkpoint_prefix='teacher.')
    model.load_test_checkpoint(path)
    torch.testing.assert_close(model.model.backbone.cls_token,
                               donor.teacher['backbone'].cls_token)
    own = save_state(tmp_path / 'own.pth', model.state_dict())
    again = discovery()
    again.load_test_checkpoint(own)
    torch.testing.assert_close(again.model.head.slots_mu,
                               donor.teacher['head'].slots_mu)
    wide = MODELS.build(tiny_smtc(embed_dim=32))
    path = save_state(tmp_path / 'wide.pth', wide.state_dict())
    with pytest.raises(CheckpointError, match=r'wide\.pth: does not fit the '
                       r'SMTC model \(VisionTransformer backbone\)'):
        discovery().load_test_checkpoint(path)
    with pytest.raises(CheckpointError, match=r"smtc\.pth: has no weights "
                       r"under the prefixes \['ema\.'\]"):
        discovery(checkpoint_prefix='ema.').load_test_checkpoint(
            str(tmp_path / 'smtc.pth'))


def test_discovery_errors():
    frames, _ = make_video()
    with pytest.raises(ValueError, match='checkpoint_prefix'):
        discovery(checkpoint_prefix=['teacher.', None])
    model = discovery(input_size=None)
    with pytest.raises(ValueError, match="test-only: mode must be 'predict'"):
        model([frames], [VideoDataSample()], mode='tensor')
    sample = VideoDataSample(metainfo=dict(video_name='tiny', ori_shape=(6,
                                                                         44)))
    with pytest.raises(ValueError, match='tiny: frames of 6x44 pixels are '
                       'smaller than the stride 8'):
        model.predict([frames[:, :6]], [sample])
