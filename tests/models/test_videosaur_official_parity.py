"""mmsmtc's VideoSAUR equals the official model (tests/data/videosaur_official
/golden.pt, made by its make_golden.py from martius-lab/videosaur) after
tools/model_converters/videosaur_official_to_mmsmtc.py: same weights, same
frame-0 slots -> same slots, masks, reconstruction and weighted losses."""
import importlib.util
from pathlib import Path

import pytest
import torch

from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / 'tests' / 'data' / 'videosaur_official' / 'golden.pt'
TOOL = ROOT / 'tools' / 'model_converters' / 'videosaur_official_to_mmsmtc.py'
spec = importlib.util.spec_from_file_location('videosaur_converter', TOOL)
converter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(converter)

VIT_PREFIX = 'encoder.module.backbone.model.'
#: float32 reproduction of the official float32 run.
TOLERANCE = 1e-5
#: Gradients (entries up to about 0.05 here): relative to each tensor's
#: largest entry, plus a floor.
GRADIENT_RTOL, GRADIENT_ATOL = 1e-4, 1e-8


@pytest.fixture(scope='module')
def golden():
    return torch.load(GOLDEN, weights_only=True)


def tiny_model_cfg(variant: str) -> dict:
    """The mmsmtc twin of make_golden.py's tiny official model."""
    reconstruct = variant == 'ytvis'
    embed, slot_dim, patches = 16, 12, 16
    losses = [
        dict(
            type='TemporalSimilarityLoss',
            temperature=0.25 if reconstruct else 0.075,
            first_channel=embed if reconstruct else 0,
            loss_weight=0.1)
    ]
    if reconstruct:
        losses.insert(0, dict(type='FeatureReconstructionLoss'))
    return dict(
        type='VideoSAUR',
        backbone=dict(
            type='VisionTransformer',
            arch=dict(patch_size=4, embed_dim=embed, depth=2, num_heads=2),
            pretrain_img_size=16,
            out_types=('tokens', 'keys'),
            frozen=True),
        neck=dict(
            type='PatchFeatureMLP', in_channels=embed, out_channels=slot_dim),
        slot_initializer=dict(
            type='LearnedGaussianSlotInit', num_slots=3, slot_dim=slot_dim),
        processor=dict(
            type='RecurrentSlotProcessor',
            corrector=dict(
                type='SlotAttentionCorrector',
                in_channels=slot_dim,
                slot_dim=slot_dim,
                num_iters=2),
            predictor=dict(
                type='SlotTransformer', dim=slot_dim, num_blocks=1,
                num_heads=4),
            first_frame_iters=3),
        decoder=dict(
            type='SlotMixerDecoder',
            slot_dim=slot_dim,
            out_channels=(embed if reconstruct else 0) + patches,
            num_patches=patches,
            allocator=dict(
                type='SlotTransformer',
                dim=slot_dim,
                num_blocks=3 if reconstruct else 2,
                num_heads=4),
            renderer_dims=(24, ) * (3 if reconstruct else 4)),
        losses=losses)


def official_state(golden, variant, with_final_norm=False):
    state = dict(golden[variant]['state_dict'])
    state.update({
        VIT_PREFIX + name: value
        for name, value in golden['vit_state_dict'].items()
    })
    if with_final_norm:
        embed = golden['vit_state_dict']['cls_token'].shape[-1]
        state[VIT_PREFIX + 'norm.weight'] = torch.ones(embed)
        state[VIT_PREFIX + 'norm.bias'] = torch.zeros(embed)
    return state


def converted_model(golden, variant, with_final_norm=False):
    converted, report = converter.convert_state_dict(
        official_state(golden, variant, with_final_norm))
    assert report['variant'] == 'custom'
    model = MODELS.build(tiny_model_cfg(variant))
    model.load_state_dict(converted, strict=True)
    return model


@pytest.mark.parametrize('with_final_norm', [False, True])
@pytest.mark.parametrize('variant', ['movi', 'ytvis'])
def test_tensor_outputs_equal_official(golden, variant, with_final_norm):
    record = golden[variant]
    model = converted_model(golden, variant, with_final_norm).train()
    with torch.no_grad():
        out = model(record['inputs'], mode='tensor',
                    slot_init=record['slot_init'])
    for name in ('slots', 'masks', 'reconstruction'):
        assert out[name].shape == record[name].shape, name
        diff = (out[name] - record[name]).abs().max().item()
        assert diff <= TOLERANCE, f'{variant} {name}: max |diff| {diff:.2e}'


@pytest.mark.parametrize('variant', ['movi', 'ytvis'])
def test_weighted_losses_equal_official(golden, variant):
    record = golden[variant]
    model = converted_model(golden, variant).train()
    losses = model(record['inputs'], mode='loss',
                   slot_init=record['slot_init'])
    names = dict(loss_timesim='loss_similarity',
                 loss_featrec='loss_reconstruction')
    assert set(losses) == {names[name] for name in record['losses']}
    for name, value in record['losses'].items():
        expected = value * record['loss_weights'][name]
        diff = (losses[names[name]].detach() - expected).abs().item()
        assert diff <= TOLERANCE, f'{variant} {name}: |diff| {diff:.2e}'


def official_names(golden, variant):
    """mmsmtc parameter name -> official name, through the converter."""
    state = official_state(golden, variant)
    converted, _ = converter.convert_state_dict(state)
    official_name = {id(value): name for name, value in state.items()}
    return {
        name: official_name[id(value)]
        for name, value in converted.items() if id(value) in official_name
    }


@pytest.mark.parametrize('variant', ['movi', 'ytvis'])
def test_gradients_equal_official(golden, variant):
    """The weighted total loss gives every trained parameter the official
    gradient (float32), and the frozen encoder none."""
    record = golden[variant]
    model = converted_model(golden, variant).train()
    losses = model(record['inputs'], mode='loss',
                   slot_init=record['slot_init'])
    sum(losses.values()).backward()
    names = official_names(golden, variant)
    gradients = {
        names[name]: parameter.grad
        for name, parameter in model.named_parameters()
        if parameter.grad is not None
    }
    assert set(gradients) == set(record['gradients'])
    for name, expected in record['gradients'].items():
        # relative to the tensor's largest entry; the absolute floor covers
        # gradients that are zero up to rounding (decoder.norm_k.bias: the
        # softmax over slots ignores a key offset shared by all slots)
        bound = GRADIENT_RTOL * expected.abs().max().item() + GRADIENT_ATOL
        diff = (gradients[name] - expected).abs().max().item()
        assert diff <= bound, f'{variant} {name}: max |diff| {diff:.2e}'


@pytest.mark.parametrize('variant', ['movi', 'ytvis'])
def test_initialisation_zeroes_what_the_official_build_zeroes(golden,
                                                              variant):
    """A fresh model zeroes exactly the entries that the official build
    does. The official MLPs (the encoder's output transform, the renderer)
    keep torch's default biases: its ``init_parameters`` on an
    ``nn.Sequential`` initialises nothing."""
    official_zero = set(golden[variant]['init_zero_keys'])
    expected = {
        name
        for name, official in official_names(golden, variant).items()
        if official in official_zero
    }
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(variant))
    zero = {
        name
        for name, value in model.state_dict().items()
        if not name.startswith('backbone.') and value.is_floating_point()
        and not value.any()
    }
    assert len(expected) == len(official_zero)
    assert zero == expected


def test_predict_in_clips_carries_the_recurrence(golden):
    """Clips of 1, 2 or 3 frames with the slots carried equal one pass over
    the video from the same initial slots (the generator's draw)."""
    record = golden['ytvis']
    model = converted_model(golden, 'ytvis').eval()
    video = record['inputs'][0]
    initial = model.slot_initializer(1, torch.Generator().manual_seed(7))
    with torch.no_grad():
        whole = model(video[None], mode='tensor', slot_init=initial)
    for clip_len in (1, 2, 3):
        model.test_clip_len = clip_len
        sample = model.predict_video(len(video), video.__getitem__,
                                     VideoDataSample(),
                                     torch.Generator().manual_seed(7))
        expected = whole['masks'][0].unflatten(-1, (4, 4))
        assert torch.allclose(sample.pred_slot_masks, expected, atol=1e-6)
        assert torch.allclose(sample.pred_slot_embeddings,
                              whole['slots'][0], atol=1e-6)
