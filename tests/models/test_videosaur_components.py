"""The VideoSAUR / DINOSAUR parts on hand cases (the maths of the official
code, spec shared/methods/videosaur.md section 8)."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmsmtc.models.decoders import PatchMLPDecoder, SlotMixerDecoder
from mmsmtc.models.losses import (FeatureReconstructionLoss,
                                  TemporalSimilarityLoss,
                                  temporal_similarity_targets)
from mmsmtc.models.necks import PatchFeatureMLP
from mmsmtc.models.slot_attention import (LearnedGaussianSlotInit,
                                          QKVAttention, RecurrentSlotProcessor,
                                          SlotAttentionCorrector,
                                          SlotTransformer)


# ----------------------------------------------------------------------
# temporal similarity targets and loss
def two_frame_keys(frame0, frame1):
    return torch.tensor([[frame0, frame1]], dtype=torch.float64)


def test_similarity_target_hand_case():
    """Row 0: sims [1, -1] -> -1 masked -> [1, 0]; row 1: sims [0, 0] (0 is
    not below the threshold) -> [0.5, 0.5]."""
    keys = two_frame_keys([[1, 0], [0, 1]], [[1, 0], [-1, 0]])
    targets = temporal_similarity_targets(keys, temperature=0.1)
    assert targets.shape == (1, 1, 2, 2)
    expected = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
    torch.testing.assert_close(targets[0, 0], expected)


def test_similarity_target_fully_masked_row_is_uniform():
    keys = two_frame_keys([[1, 0], [0, 1]], [[-1, 0], [-1, -1]])
    targets = temporal_similarity_targets(keys, temperature=0.5)
    torch.testing.assert_close(
        targets[0, 0, 0], torch.full((2, ), 0.5, dtype=torch.float64))
    assert torch.isfinite(targets).all()


def test_similarity_target_temperature_and_normalisation():
    """sims [0.8, 0.2] at tau 0.1 -> P0 = 1 / (1 + e^-6) = 0.997527;
    scaling the keys changes nothing (L2 normalisation)."""
    keys = two_frame_keys([[1, 0], [1, 0]], [[0.8, 0.6], [0.2, 0.96**0.5]])
    targets = temporal_similarity_targets(keys, temperature=0.1)
    assert abs(targets[0, 0, 0, 0].item() - 1 / (1 + math.exp(-6))) < 1e-12
    assert abs(targets[0, 0, 0, 0].item() - 0.997527) < 1e-6
    scaled = keys * torch.tensor([7.5, 0.2]).double().view(1, 2, 1, 1)
    torch.testing.assert_close(
        temporal_similarity_targets(scaled, temperature=0.1), targets)


def test_similarity_targets_shape_and_rows_sum_to_one():
    keys = torch.randn(2, 4, 5, 3)
    targets = temporal_similarity_targets(keys, temperature=0.2)
    assert targets.shape == (2, 3, 5, 5)
    torch.testing.assert_close(targets.sum(-1), torch.ones(2, 3, 5))


@pytest.mark.parametrize('first_channel', [0, 7])
def test_similarity_loss_zero_logits_is_log_n(first_channel):
    batch, frames, patches = 2, 3, 6
    keys = torch.randn(batch, frames, patches, 4)
    reconstruction = torch.randn(batch, frames, patches,
                                 first_channel + patches + 2)
    reconstruction[..., first_channel:first_channel + patches] = 0
    loss = TemporalSimilarityLoss(
        temperature=0.3, first_channel=first_channel, loss_weight=1.0)(
            dict(vit_keys=keys, reconstruction=reconstruction))
    assert abs(loss.item() - math.log(patches)) < 1e-6


def test_similarity_loss_uses_frames_before_the_last_and_its_slice():
    """Only frames 0..T-2 and channels [first, first + N) matter; the loss
    is the mean cross-entropy times the weight."""
    torch.manual_seed(0)
    keys = torch.randn(2, 3, 4, 5)
    reconstruction = torch.randn(2, 3, 4, 3 + 4 + 1, requires_grad=True)
    loss = TemporalSimilarityLoss(
        temperature=0.25, first_channel=3, loss_weight=0.1)(
            dict(vit_keys=keys, reconstruction=reconstruction))
    loss.backward()
    grad = reconstruction.grad
    assert grad[:, -1].abs().sum() == 0
    assert grad[..., :3].abs().sum() == 0 and grad[..., 7:].abs().sum() == 0
    targets = temporal_similarity_targets(keys, 0.25)
    logits = reconstruction.detach()[:, :-1, :, 3:7]
    expected = F.cross_entropy(
        logits.flatten(0, 2), targets.flatten(0, 2), reduction='mean')
    assert abs(loss.item() - 0.1 * expected.item()) < 1e-6


def test_similarity_loss_takes_the_prediction_without_its_last_frame():
    """The last frame is never read, so a prediction without it gives the
    same loss; fewer frames than T - 1 are refused."""
    torch.manual_seed(0)
    keys = torch.randn(2, 3, 4, 5)
    reconstruction = torch.randn(2, 3, 4, 4)
    loss = TemporalSimilarityLoss(temperature=0.25, loss_weight=0.1)
    assert not loss.reads_last_frame
    whole = loss(dict(vit_keys=keys, reconstruction=reconstruction))
    without_last = loss(
        dict(vit_keys=keys, reconstruction=reconstruction[:, :-1]))
    assert without_last.item() == whole.item()
    with pytest.raises(ValueError, match='has 1 frames; the 3-frame'):
        loss(dict(vit_keys=keys, reconstruction=reconstruction[:, :1]))


def test_similarity_loss_bad_inputs_are_named():
    loss = TemporalSimilarityLoss(temperature=0.1, first_channel=3)
    with pytest.raises(ValueError, match='similarity logits need'):
        loss(dict(vit_keys=torch.randn(1, 2, 4, 3),
                  reconstruction=torch.randn(1, 2, 4, 5)))
    with pytest.raises(ValueError, match='>= 2'):
        loss(dict(vit_keys=torch.randn(1, 1, 4, 3),
                  reconstruction=torch.randn(1, 1, 4, 8)))
    with pytest.raises(KeyError, match='vit_keys'):
        loss(dict(reconstruction=torch.randn(1, 2, 4, 8)))
    with pytest.raises(ValueError, match='temperature'):
        TemporalSimilarityLoss(temperature=0.0)


def test_reconstruction_loss_is_mse_of_the_feature_channels():
    torch.manual_seed(0)
    tokens = torch.randn(2, 3, 4, 5)
    reconstruction = torch.randn(2, 3, 4, 9)
    loss = FeatureReconstructionLoss(loss_weight=2.0)(
        dict(vit_tokens=tokens, reconstruction=reconstruction))
    expected = ((reconstruction[..., :5] - tokens)**2).mean() * 2.0
    assert abs(loss.item() - expected.item()) < 1e-6
    with pytest.raises(ValueError, match='fewer'):
        FeatureReconstructionLoss()(
            dict(vit_tokens=tokens, reconstruction=reconstruction[..., :3]))


# ----------------------------------------------------------------------
# output transform, initialiser
def test_patch_feature_mlp_layers():
    mlp = PatchFeatureMLP(in_channels=6, out_channels=4)
    assert [type(layer).__name__ for layer in mlp.layers] == [
        'LayerNorm', 'Linear', 'ReLU', 'Linear']
    assert mlp.layers[1].out_features == 12
    tokens = torch.randn(2, 3, 5, 6)
    expected = mlp.layers[3](torch.relu(mlp.layers[1](
        F.layer_norm(tokens, (6, )))))
    torch.testing.assert_close(mlp(tokens), expected)


def test_gaussian_initialiser_statistics_and_generator():
    init = LearnedGaussianSlotInit(num_slots=5, slot_dim=16)
    assert torch.allclose(init.log_std.exp(), torch.full((1, 1, 16), 0.25))
    with torch.no_grad():
        init.mean.fill_(2.0)
    slots = init(4000)
    assert slots.shape == (4000, 5, 16)
    assert abs(slots.mean().item() - 2.0) < 0.01
    assert abs(slots.std().item() - 0.25) < 0.01
    first = init(2, torch.Generator().manual_seed(3))
    again = init(2, torch.Generator().manual_seed(3))
    torch.testing.assert_close(first, again)


# ----------------------------------------------------------------------
# slot attention
def hand_slot_attention_step(module, slots, features):
    """Locatello et al. with the official GRU-on-normed-slots hidden."""
    f = F.layer_norm(features, features.shape[-1:],
                     module.norm_features.weight, module.norm_features.bias)
    keys, values = f @ module.to_k.weight.T, f @ module.to_v.weight.T
    normed = F.layer_norm(slots, slots.shape[-1:], module.norm_slots.weight,
                          module.norm_slots.bias)
    logits = torch.einsum('bkd,bnd->bkn', normed @ module.to_q.weight.T,
                          keys) / math.sqrt(slots.shape[-1])
    attention = torch.softmax(logits, dim=1)
    weights = (attention + 1e-8)
    weights = weights / weights.sum(-1, keepdim=True)
    updates = torch.einsum('bkn,bnd->bkd', weights, values)
    gru = module.gru
    x, h = updates.flatten(0, 1), normed.flatten(0, 1)
    gates_x = x @ gru.weight_ih.T + gru.bias_ih
    gates_h = h @ gru.weight_hh.T + gru.bias_hh
    r = torch.sigmoid(gates_x[:, :8] + gates_h[:, :8])
    z = torch.sigmoid(gates_x[:, 8:16] + gates_h[:, 8:16])
    n = torch.tanh(gates_x[:, 16:] + r * gates_h[:, 16:])
    new = ((1 - z) * n + z * h).unflatten(0, slots.shape[:2])
    return new, attention


def test_slot_attention_step_matches_hand_reference():
    torch.manual_seed(0)
    module = SlotAttentionCorrector(in_channels=6, slot_dim=8, num_iters=1)
    for parameter in module.parameters():
        parameter.data.add_(0.1 * torch.randn_like(parameter))
    slots, features = torch.randn(2, 3, 8), torch.randn(2, 5, 6)
    out, attention = module(slots, features)
    expected, expected_attention = hand_slot_attention_step(
        module, slots, features)
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(attention, expected_attention)
    torch.testing.assert_close(attention.sum(1), torch.ones(2, 5))


def test_slot_attention_gru_hidden_flag():
    torch.manual_seed(0)
    module = SlotAttentionCorrector(6, 8, num_iters=1)
    raw = SlotAttentionCorrector(6, 8, num_iters=1, gru_on_normed_slots=False)
    raw.load_state_dict(module.state_dict())
    slots, features = torch.randn(2, 3, 8) * 3 + 1, torch.randn(2, 5, 6)
    assert not torch.allclose(module(slots, features)[0],
                              raw(slots, features)[0])


def test_slot_attention_mlp_is_residual_with_its_own_norm():
    torch.manual_seed(0)
    module = SlotAttentionCorrector(6, 8, num_iters=1, use_mlp=True)
    assert [type(layer).__name__ for layer in module.mlp.layers] == [
        'LayerNorm', 'Linear', 'ReLU', 'Linear']
    slots, features = torch.randn(2, 3, 8), torch.randn(2, 5, 6)
    plain = SlotAttentionCorrector(6, 8, num_iters=1)
    plain.load_state_dict(
        {k: v for k, v in module.state_dict().items()
         if not k.startswith('mlp.')})
    gru_out = plain(slots, features)[0]
    torch.testing.assert_close(
        module(slots, features)[0], gru_out + module.mlp(gru_out))


class CountingCorrector(torch.nn.Module):

    def __init__(self):
        super().__init__()
        self.num_iters = 2
        self.calls = []

    def forward(self, slots, features, num_iters=None):
        self.calls.append(self.num_iters if num_iters is None else num_iters)
        return slots + features.mean(1, keepdim=True), features.new_zeros(
            slots.shape[0], slots.shape[1], features.shape[1])


def test_processor_iterations_and_recurrence():
    """3 iterations on the video's first frame, 2 after; the predictor's
    output starts the next frame; the decoder gets the corrected slots."""
    corrector = CountingCorrector()
    predictor = torch.nn.Linear(4, 4)
    processor = RecurrentSlotProcessor(corrector, predictor,
                                       first_frame_iters=3)
    slots, features = torch.randn(2, 3, 4), torch.randn(2, 4, 5, 4)
    out = processor(slots, features)
    assert corrector.calls == [3, 2, 2, 2]
    expected = slots + features[:, 0].mean(1, keepdim=True)
    torch.testing.assert_close(out['slots'][:, 0], expected)
    expected = predictor(expected) + features[:, 1].mean(1, keepdim=True)
    torch.testing.assert_close(out['slots'][:, 1], expected)
    torch.testing.assert_close(out['next_slots'],
                               predictor(out['slots'][:, -1]))
    corrector.calls.clear()
    processor(slots, features, is_first_frame=False)
    assert corrector.calls == [2, 2, 2, 2]


# ----------------------------------------------------------------------
# transformer, decoders
def test_attention_logit_scale_quirk():
    """Official: logits = (W_q x)(W_k m)^T * sqrt(d_head); the flag gives
    the textbook 1 / sqrt(d_head)."""
    torch.manual_seed(0)
    attention = QKVAttention(dim=8, num_heads=2)
    x, memory = torch.randn(1, 3, 8), torch.randn(1, 5, 8)
    q = F.linear(x, attention.qkv.weight[:8], attention.qkv.bias[:8])
    k = F.linear(memory, attention.qkv.weight[8:16],
                 attention.qkv.bias[8:16])
    raw = torch.einsum('bqhd,bkhd->bhqk', q.unflatten(-1, (2, 4)),
                       k.unflatten(-1, (2, 4)))
    torch.testing.assert_close(
        attention.attention_logits(x, memory), raw * 2.0)
    corrected = QKVAttention(dim=8, num_heads=2, official_logit_scale=False)
    corrected.load_state_dict(attention.state_dict())
    torch.testing.assert_close(
        corrected.attention_logits(x, memory), raw / 2.0)


def test_attention_matches_reference_multi_head_attention():
    """The corrected scale is torch's scaled dot-product attention."""
    torch.manual_seed(0)
    attention = QKVAttention(8, 2, official_logit_scale=False)
    x, memory = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    q, _, _ = attention._project(x, memory)
    _, k, v = attention._project(x, memory)
    expected = F.scaled_dot_product_attention(q, k, v).transpose(1, 2)
    torch.testing.assert_close(
        attention(x, memory), attention.out_proj(expected.flatten(2)))


def make_slot_mixer(renderer_dims=(32, 32)):
    allocator = SlotTransformer(dim=8, num_blocks=2, num_heads=2)
    return SlotMixerDecoder(slot_dim=8, out_channels=6, num_patches=10,
                            allocator=allocator, renderer_dims=renderer_dims)


def test_slot_mixer_masks_sum_to_one_and_shapes():
    torch.manual_seed(0)
    decoder = make_slot_mixer()
    out = decoder(torch.randn(3, 4, 8))
    assert out['reconstruction'].shape == (3, 10, 6)
    assert out['masks'].shape == (3, 4, 10)
    torch.testing.assert_close(out['masks'].sum(1), torch.ones(3, 10))
    assert [type(layer).__name__ for layer in decoder.renderer.layers] == [
        'Linear', 'ReLU', 'Linear', 'ReLU']


def test_allocator_has_no_self_attention():
    """Permuting the positions (with their embeddings) permutes the
    outputs: positions attend to the slots only."""
    torch.manual_seed(0)
    decoder = make_slot_mixer()
    slots = torch.randn(2, 4, 8)
    out = decoder(slots)
    order = torch.randperm(10)
    with torch.no_grad():
        decoder.pos_emb.copy_(decoder.pos_emb[:, order])
    permuted = decoder(slots)
    torch.testing.assert_close(permuted['reconstruction'],
                               out['reconstruction'][:, order])
    torch.testing.assert_close(permuted['masks'], out['masks'][..., order])


def test_mlp_decoder_mixes_slot_reconstructions_by_alpha():
    torch.manual_seed(0)
    decoder = PatchMLPDecoder(slot_dim=8, out_channels=5, num_patches=6,
                              hidden_dims=(16, 16))
    slots = torch.randn(2, 3, 8)
    out = decoder(slots)
    decoded = decoder.mlp(slots[:, :, None] + decoder.pos_emb)
    masks = decoded[..., 5].softmax(dim=1)
    torch.testing.assert_close(out['masks'], masks)
    torch.testing.assert_close(
        out['reconstruction'], (decoded[..., :5] * masks[..., None]).sum(1))
    torch.testing.assert_close(out['masks'].sum(1), torch.ones(2, 6))
