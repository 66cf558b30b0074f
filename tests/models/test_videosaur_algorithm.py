"""The VideoSAUR / DINOSAUR algorithms on the tiny config: modes, the tensor
contract, the frozen encoder, test-time slots and the clip-to-clip state."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmsmtc.models.utils import video_generator
from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / 'configs' / '_base_' / 'models' / 'videosaur_vit-tiny.py'
_TINY_MODEL = Config.fromfile(str(TINY)).model
#: Slots drawn by the tiny config's initialiser, its patch grid on the
#: 64x64 clips below (side and count) and its ViT channels.
NUM_SLOTS = _TINY_MODEL.slot_initializer.num_slots
GRID = 64 // _TINY_MODEL.backbone.arch.patch_size
N = GRID * GRID
C = _TINY_MODEL.neck.in_channels


def tiny_model(**overrides):
    cfg = Config.fromfile(str(TINY))
    cfg.merge_from_dict(
        {f'model.{key}': value
         for key, value in overrides.items()})
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def clip(batch=2, frames=3, size=64):
    return torch.randn(batch, frames, 3, size, size,
                       generator=torch.Generator().manual_seed(1))


def test_tensor_contract():
    model = tiny_model()
    slot_init = torch.randn(2, NUM_SLOTS, 16)
    out = model(clip(), mode='tensor', slot_init=slot_init)
    assert out['slots'].shape == (2, 3, NUM_SLOTS, 16)
    assert out['masks'].shape == (2, 3, NUM_SLOTS, N)
    assert out['reconstruction'].shape == (2, 3, N, C + N)
    assert out['attention_masks'].shape == (2, 3, NUM_SLOTS, N)
    assert out['vit_tokens'].shape == out['vit_keys'].shape == (2, 3, N, C)
    torch.testing.assert_close(out['masks'].sum(2), torch.ones(2, 3, N))
    # slot_init is the state of frame 0: the same draw gives the same output
    again = model(clip(), mode='tensor', slot_init=slot_init)
    torch.testing.assert_close(again['slots'], out['slots'])
    drawn = model(clip(), mode='tensor')
    assert not torch.allclose(drawn['slots'], out['slots'])


def test_slot_init_shape_is_checked():
    model = tiny_model()
    with pytest.raises(ValueError, match='slot_init'):
        model(clip(), mode='tensor', slot_init=torch.randn(2, 4, 15))


def test_loss_mode_with_inputs_only_and_frozen_encoder():
    model = tiny_model().train()
    losses = model(clip(), mode='loss')
    assert set(losses) == {'loss_reconstruction', 'loss_similarity'}
    total = sum(losses.values())
    total.backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert not any(p.requires_grad for p in model.backbone.parameters())
    trained = [name for name, p in model.named_parameters() if p.requires_grad]
    assert all(p.grad is not None for name, p in model.named_parameters()
               if p.requires_grad), trained
    assert not model.backbone.training
    out = model(clip(), mode='tensor')
    assert out['vit_tokens'].grad_fn is None
    assert out['vit_keys'].grad_fn is None


def vit_token_shapes_saved_for_backward(model, inputs):
    """Shapes of the tensors autograd saves in a loss forward that have
    the ViT's token layout ``(frames, 1 + N, C)`` (the cls token: only the
    encoder's inner tensors have ``1 + N`` entries)."""
    saved = []

    def pack(tensor):
        saved.append(tuple(tensor.shape))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        losses = model(inputs, mode='loss')
    assert saved and all(value.requires_grad for value in losses.values())
    return [shape for shape in saved if shape[-2:] == (N + 1, C)]


@pytest.mark.parametrize('vit_frozen', [True, False])
def test_frozen_encoder_builds_no_autograd_graph(vit_frozen):
    """The frozen encoder runs without autograd (VideoSAUR.encode's
    set_grad_enabled, and the ViT's own no_grad when built frozen): even
    with its parameters requiring gradients nothing of it is saved for
    backward and its outputs have no grad_fn."""
    model = tiny_model(**{'backbone.frozen': vit_frozen}).train()
    model.backbone.requires_grad_(True)
    assert vit_token_shapes_saved_for_backward(model, clip()) == []
    out = model(clip(), mode='tensor')
    assert out['vit_tokens'].grad_fn is None
    assert out['vit_keys'].grad_fn is None
    # the check sees the encoder when it does train
    trainable = tiny_model(freeze_backbone=False,
                           **{'backbone.frozen': False}).train()
    assert vit_token_shapes_saved_for_backward(trainable, clip())


def similarity_only_model():
    """The tiny model with the MOVi losses (temporal similarity only)."""
    model = tiny_model()
    model.losses = torch.nn.ModuleList(
        [loss for loss in model.losses
         if type(loss).__name__ == 'TemporalSimilarityLoss'])
    return model.train()


def decoded_frames_in_a_loss_step(model, inputs):
    """Frames given to the decoder in one loss step, and the losses."""
    frames = []
    handle = model.decoder.register_forward_hook(
        lambda module, args, output: frames.append(len(args[0])))
    try:
        losses = model(inputs, mode='loss',
                       slot_init=torch.zeros(len(inputs), NUM_SLOTS, 16))
    finally:
        handle.remove()
    return sum(frames), losses


def test_loss_mode_decodes_the_last_frame_only_if_a_loss_reads_it():
    inputs = clip(batch=2, frames=3)
    frames, _ = decoded_frames_in_a_loss_step(tiny_model().train(), inputs)
    assert frames == 2 * 3  # the reconstruction loss reads every frame
    model = similarity_only_model()
    frames, skipped = decoded_frames_in_a_loss_step(model, inputs)
    assert frames == 2 * 2
    skipped['loss_similarity'].backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()
             if p.grad is not None}
    model.zero_grad()
    model.losses[0].reads_last_frame = True  # as the official code
    frames, decoded = decoded_frames_in_a_loss_step(model, inputs)
    assert frames == 2 * 3
    torch.testing.assert_close(skipped, decoded)
    decoded['loss_similarity'].backward()
    for name, p in model.named_parameters():
        if p.grad is not None:
            torch.testing.assert_close(p.grad, grads[name], msg=name)


def test_loss_weights_apply():
    model = tiny_model().train()
    model.losses[1].loss_weight = 0.3  # differs from the other's 1.0
    slot_init = torch.randn(2, 4, 16)
    losses = model(clip(), mode='loss', slot_init=slot_init)
    out = model(clip(), mode='tensor', slot_init=slot_init)
    for loss in model.losses:
        weight = loss.loss_weight
        loss.loss_weight = 1.0
        unweighted = loss(out)
        loss.loss_weight = weight
        torch.testing.assert_close(losses[loss.loss_name],
                                   weight * unweighted)
    assert [loss.loss_weight for loss in model.losses] == [1.0, 0.3]


def test_training_learns_on_one_batch():
    """Both losses fall over 30 Adam steps on one fixed batch."""
    model = tiny_model().train()
    inputs = clip()
    slot_init = torch.randn(2, 4, 16)
    optimizer = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=1e-2)
    history = []
    for _ in range(30):
        losses = model(inputs, mode='loss', slot_init=slot_init)
        history.append({name: value.item() for name, value in losses.items()})
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    for name in history[0]:
        assert history[-1][name] < history[0][name], name
    assert sum(history[-1].values()) < 0.95 * sum(history[0].values())


def predict(model, video, name='video'):
    return model.predict_video(len(video), video.__getitem__,
                               VideoDataSample(),
                               video_generator(0, name))


def test_predict_contract_and_reproducible_slots():
    model = tiny_model().eval()
    video = clip(batch=1, frames=5)[0]
    sample = predict(model, video)
    assert sample.pred_slot_masks.shape == (5, NUM_SLOTS, GRID, GRID)
    assert sample.pred_slot_embeddings.shape == (5, NUM_SLOTS, 16)
    torch.testing.assert_close(sample.pred_slot_masks.sum(1),
                               torch.ones(5, GRID, GRID))
    assert sample.metainfo['mask_fields'] == ('pred_slot_masks', )
    # the same video name gives the same slots in any order / process
    torch.testing.assert_close(predict(model, video).pred_slot_masks,
                               sample.pred_slot_masks)
    other = predict(model, video, 'another')
    assert not torch.allclose(other.pred_slot_masks, sample.pred_slot_masks)


@pytest.mark.parametrize('clip_len', [1, 2, 3, 5, None])
def test_clips_with_carried_state_equal_one_pass(clip_len):
    """Any split (the last clip shorter, or padded) gives the one-pass
    result: the slots carry over, the video's first frame alone gets the
    first-frame iterations."""
    model = tiny_model().eval()
    video = clip(batch=1, frames=5)[0]
    initial = model.slot_initializer(1, video_generator(0, 'video'))
    with torch.no_grad():
        whole = model(video[None], mode='tensor', slot_init=initial)
    for pad in (False, True):
        model.test_clip_len, model.pad_last_clip = clip_len, pad
        sample = predict(model, video)
        torch.testing.assert_close(
            sample.pred_slot_masks,
            whole['masks'][0].unflatten(-1, (GRID, GRID)))
        torch.testing.assert_close(sample.pred_slot_embeddings,
                                   whole['slots'][0])


def test_predict_clip_state_round_trip():
    model = tiny_model().eval()
    video = clip(batch=1, frames=4)[0]
    with torch.no_grad():
        fields, state = model.predict_clip(video[:2],
                                           video_generator(0, 'v'))
        assert state.shape == (1, NUM_SLOTS, 16)
        later, _ = model.predict_clip(video[2:], None, state)
        initial = model.slot_initializer(1, video_generator(0, 'v'))
        whole = model(video[None], mode='tensor', slot_init=initial)
    torch.testing.assert_close(
        later['pred_slot_masks'],
        whole['masks'][0, 2:].unflatten(-1, (GRID, GRID)))


def test_smtc_keeps_its_stateless_predict_clip():
    from mmsmtc.models import SMTC
    from mmsmtc.models.algorithms import BaseVideoSSL
    assert SMTC.carries_clip_state is False
    assert BaseVideoSSL.carries_clip_state is False


def dinosaur_cfg():
    cfg = Config.fromfile(str(TINY)).model
    return dict(
        type='DINOSAUR',
        backbone=dict(cfg.backbone, out_types=('tokens', )),
        neck=cfg.neck,
        slot_initializer=cfg.slot_initializer,
        processor=dict(
            type='RecurrentSlotProcessor',
            corrector=dict(
                type='SlotAttentionCorrector', in_channels=16, slot_dim=16,
                num_iters=3, use_mlp=True)),
        decoder=dict(type='PatchMLPDecoder', slot_dim=16, out_channels=C,
                     num_patches=N, hidden_dims=(32, 32)),
        losses=[dict(type='FeatureReconstructionLoss')])


def test_dinosaur_images_and_one_frame_clips():
    torch.manual_seed(0)
    model = MODELS.build(dinosaur_cfg())
    model.init_weights()
    images = clip(batch=2, frames=1)[:, 0]
    slot_init = torch.randn(2, 4, 16)
    out = model(images, mode='tensor', slot_init=slot_init)
    assert out['slots'].shape == (2, 4, 16)
    assert out['masks'].shape == (2, 4, N)
    assert out['reconstruction'].shape == (2, N, C)
    as_clips = model(images[:, None], mode='tensor', slot_init=slot_init)
    torch.testing.assert_close(as_clips['masks'][:, 0], out['masks'])
    losses = model(images, mode='loss', slot_init=slot_init)
    assert set(losses) == {'loss_reconstruction'}
    losses['loss_reconstruction'].backward()
    with pytest.raises(ValueError, match='image model'):
        model(clip(batch=1, frames=2), mode='tensor')


def test_dinosaur_predicts_every_frame_as_an_image():
    torch.manual_seed(0)
    model = MODELS.build(dinosaur_cfg()).eval()
    video = clip(batch=1, frames=3)[0]
    sample = predict(model, video)
    assert sample.pred_slot_masks.shape == (3, NUM_SLOTS, GRID, GRID)
    model.test_clip_len = 1
    one_by_one = predict(model, video)
    # frame 0 gets the same draw either way; frames are independent
    torch.testing.assert_close(one_by_one.pred_slot_masks[0],
                               sample.pred_slot_masks[0])


def test_test_checkpoint_fills_every_trained_part(tmp_path):
    """A training checkpoint loads the slot initialiser, processor and
    decoder at test time too, not only the encoder and output transform."""
    trained = tiny_model()
    with torch.no_grad():
        for parameter in trained.parameters():
            parameter.add_(torch.randn_like(parameter))
    path = tmp_path / 'iter_1.pth'
    torch.save({'state_dict': trained.state_dict()}, path)
    segmentor = MODELS.build(
        dict(type='ObjectDiscoverySegmentor',
             model=tiny_model(),
             post_processor=dict(type='SlotArgmaxPostProcessor'),
             size_multiple=64 // GRID))
    segmentor.load_test_checkpoint(str(path))
    loaded = segmentor.model.state_dict()
    for name in ('slot_initializer.mean', 'processor.corrector.to_q.weight',
                 'decoder.pos_emb', 'neck.layers.1.weight'):
        assert name in loaded
    for name, value in trained.state_dict().items():
        torch.testing.assert_close(loaded[name], value, rtol=0, atol=0)
