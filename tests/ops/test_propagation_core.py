"""Exactness of the memory-bounded label propagation against the dense one."""
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from mmsmtc.apis import (StreamingLabelPropagation, propagate_labels,
                         propagate_labels_dense)
from mmsmtc.ops.propagation import streaming
from mmsmtc.ops.propagation.geometry import radius_reach
from mmsmtc.ops.propagation.topk import logit_error_bound

SETTINGS = [
    # (T, C, h, w, K, topk, radius, temperature, n_context, tile_size)
    (6, 16, 12, 15, 4, 7, 3, 0.2, 3, 8),
    (8, 8, 9, 11, 3, 30, 40, 0.05, 25, 16),
    (5, 32, 20, 17, 5, 1, 1, 0.1, 2, 16),
    (10, 16, 13, 13, 3, 10, 12, 0.07, 4, 7),
    (5, 24, 12, 14, 6, 28, 7.5, 0.2, 20, 6),
    (4, 12, 10, 10, 2, 5, 1.5, 1.0, 1, 10),
]


def random_case(seed, num_frames, channels, height, width, num_labels):
    generator = torch.Generator().manual_seed(seed)
    feats = torch.randn(num_frames, channels, height, width,
                        generator=generator)
    labels = torch.rand(num_labels, height, width, generator=generator)
    return feats, labels


def assert_same_propagation(fast, dense):
    assert fast.shape == dense.shape
    assert torch.equal(fast.argmax(1), dense.argmax(1))
    assert (fast - dense).abs().max().item() < 1e-5


@pytest.mark.parametrize('case', SETTINGS)
def test_matches_dense_on_random_features(case):
    (num_frames, channels, height, width, num_labels, topk, radius,
     temperature, n_context, tile_size) = case
    feats, labels = random_case(sum(case[:5]), num_frames, channels, height,
                                width, num_labels)
    settings = dict(
        topk=topk,
        radius=radius,
        temperature=temperature,
        n_context=n_context)
    fast = propagate_labels(feats, labels, tile_size=tile_size, **settings)
    dense = propagate_labels_dense(feats, labels, **settings)
    assert_same_propagation(fast, dense)


def test_frame_zero_is_returned_as_given():
    feats, labels = random_case(1, 4, 8, 6, 7, 3)
    out = propagate_labels(
        feats, labels, topk=5, radius=3, temperature=0.1, n_context=2)
    assert out.shape == (4, 3, 6, 7)
    assert torch.equal(out[0], labels)


def test_one_hot_labels_stay_a_distribution():
    feats, _ = random_case(2, 5, 8, 9, 9, 1)
    labels = F.one_hot(torch.arange(81).view(9, 9) % 3, 3).permute(
        2, 0, 1).float()
    out = propagate_labels(
        feats, labels, topk=4, radius=4, temperature=0.2, n_context=3)
    assert torch.allclose(out.sum(1), torch.ones(5, 9, 9), atol=1e-6)


@pytest.mark.parametrize('tile_size', [2, 5, 64])
def test_tile_size_does_not_change_the_result(tile_size):
    feats, labels = random_case(3, 6, 16, 11, 14, 4)
    settings = dict(topk=9, radius=4, temperature=0.1, n_context=3)
    reference = propagate_labels(feats, labels, tile_size=16, **settings)
    out = propagate_labels(feats, labels, tile_size=tile_size, **settings)
    assert torch.equal(out.argmax(1), reference.argmax(1))
    assert (out - reference).abs().max().item() < 1e-6


@pytest.mark.parametrize('temperature', [1e-3, 0.05, 0.2, 1.0, 10.0])
def test_excluded_logit_absorbs_any_float32_logit(temperature):
    assert streaming.excluded_logit_absorbs(temperature, torch.float32)
    excluded = torch.tensor(streaming.excluded_logit(temperature))
    for cosine in (1.0, -1.0, 0.37, -1e-3):
        logit = torch.tensor(cosine / temperature, dtype=torch.float32)
        assert (excluded + logit).item() == excluded.item()


def test_excluded_logit_does_not_absorb_float64_logits():
    assert not streaming.excluded_logit_absorbs(0.2, torch.float64)


def test_masking_by_addition_equals_masking_by_fill(monkeypatch):
    feats, labels = random_case(11, 6, 16, 13, 17, 3)
    settings = dict(topk=12, radius=4, temperature=0.05, n_context=3)
    by_addition = propagate_labels(feats, labels, tile_size=5, **settings)
    monkeypatch.setattr(streaming, 'excluded_logit_absorbs',
                        lambda temperature, dtype: False)
    by_fill = propagate_labels(feats, labels, tile_size=5, **settings)
    assert torch.equal(by_addition, by_fill)


def test_window_mask_cache_stays_within_its_byte_budget(monkeypatch):
    feats, labels = random_case(12, 4, 8, 14, 19, 2)
    settings = dict(topk=5, radius=3, temperature=0.1, n_context=2)
    reference = propagate_labels(feats, labels, tile_size=4, **settings)
    budget = 3000
    monkeypatch.setattr(streaming, 'WINDOW_MASK_CACHE_BYTES', budget)
    engine = StreamingLabelPropagation(feats[0], labels, tile_size=4,
                                       **settings)
    out = [labels] + [engine.step(frame) for frame in feats[1:]]
    assert torch.equal(torch.stack(out), reference)
    held = sum(
        streaming._nbytes(entry) for entry in engine._window_masks.values())
    assert held == engine._window_mask_bytes
    # the check is not vacuous: some geometries fit, not all of them
    assert 0 < held <= budget
    assert len(engine._window_masks) < 12


def test_flat_region_near_ties_are_resolved_exactly(monkeypatch):
    """A flat region (features equal up to 1e-6) fills every screen with
    candidates inside the rounding margin; those targets are resolved from
    all their logits and still give the float64 protocol."""
    generator = torch.Generator().manual_seed(0)
    feats = torch.randn(6, 16, 20, 24, generator=generator)
    feats[:, :, :10, :12] = feats[:, :, :1, :1]
    feats += 1e-6 * torch.randn(feats.shape, generator=generator)
    labels = torch.rand(3, 20, 24, generator=generator)
    settings = dict(topk=10, radius=6, temperature=0.05, n_context=3)
    resolved = []
    original = streaming.StreamingLabelPropagation._propagate_unresolved

    def counting(self, rows, *args, **kwargs):
        resolved.append(len(rows))
        return original(self, rows, *args, **kwargs)

    monkeypatch.setattr(streaming.StreamingLabelPropagation,
                        '_propagate_unresolved', counting)
    out = propagate_labels(feats, labels, **settings)
    exact = propagate_labels_dense(
        feats, labels, tie_break='first', dtype=torch.float64, **settings)
    assert sum(resolved) > 0  # the branch under test was taken
    assert torch.equal(out.argmax(1), exact.argmax(1))
    assert (out.double() - exact).abs().max().item() < 1e-6


def test_bank_device_and_dtype_options():
    feats, labels = random_case(4, 5, 8, 8, 10, 3)
    settings = dict(topk=6, radius=5, temperature=0.1, n_context=2)
    reference = propagate_labels_dense(feats, labels, **settings)
    on_cpu_bank = propagate_labels(feats, labels, bank_device='cpu',
                                   **settings)
    assert_same_propagation(on_cpu_bank, reference)
    in_double = propagate_labels(feats.double(), labels.double(),
                                 dtype=torch.float64, **settings)
    assert in_double.dtype == torch.float64
    assert_same_propagation(in_double.float(), reference)


def brute_force_lowest_index(feats, labels, topk, radius, temperature,
                             n_context):
    """Per-cell brute force with a stable sort: ties to the first source."""
    num_frames, _, height, width = feats.shape
    flat = F.normalize(feats, dim=1).flatten(2)
    rows, cols = torch.meshgrid(
        torch.arange(height), torch.arange(width), indexing='ij')
    rows, cols = rows.reshape(-1), cols.reshape(-1)
    outputs = [labels.flatten(1)]
    for target in range(1, num_frames):
        sources = [0] + [
            max(0, target - n_context + i) for i in range(n_context)
        ]
        prediction = torch.empty_like(outputs[0])
        for cell in range(height * width):
            logits, source_labels = [], []
            for position, frame in enumerate(sources):
                cos = flat[frame].T @ flat[target][:, cell]
                if position > 0:
                    far = ((rows - rows[cell])**2 +
                           (cols - cols[cell])**2).float()**0.5 >= radius
                    cos = torch.where(far, cos - 1e10, cos)
                logits.append(cos / temperature)
                source_labels.append(outputs[frame])
            logits = torch.cat(logits)
            order = logits.sort(descending=True, stable=True).indices[:topk]
            weights = logits[order].softmax(0)
            prediction[:, cell] = (torch.cat(source_labels, 1)[:, order] *
                                   weights).sum(1)
        outputs.append(prediction)
    return torch.stack(outputs).view(num_frames, -1, height, width)


def test_exact_ties_go_to_the_first_source_in_protocol_order():
    # Features drawn from 3 directions: many logits tie exactly, and tied
    # cells carry different labels, so the tie rule decides the output.
    generator = torch.Generator().manual_seed(5)
    directions = torch.eye(3)[torch.randint(0, 3, (5, 7, 8),
                                            generator=generator)]
    feats = directions.permute(0, 3, 1, 2).contiguous()
    labels = torch.rand(4, 7, 8, generator=generator)
    settings = dict(topk=5, radius=3, temperature=0.5, n_context=3)
    expected = brute_force_lowest_index(feats, labels, **settings)
    for tile_size in (2, 16):
        out = propagate_labels(feats, labels, tile_size=tile_size, **settings)
        assert (out - expected).abs().max().item() < 1e-6


def test_dense_reference_rejects_an_unknown_tie_rule():
    feats, labels = random_case(9, 2, 4, 3, 3, 2)
    with pytest.raises(ValueError, match='tie_break'):
        propagate_labels_dense(
            feats, labels, topk=2, radius=2, temperature=0.1, n_context=1,
            tie_break='random')


def test_radius_reach_follows_float32_strict_comparison():
    assert radius_reach(1) == 0
    assert radius_reach(1.5) == 1
    assert radius_reach(12) == 11
    assert radius_reach(35) == 34


def stride8_random_conv(frames, channels=32, seed=0):
    """A fixed random 8x8/8 convolution: features at stride 8."""
    weight = torch.randn(
        channels, 3, 8, 8, generator=torch.Generator().manual_seed(seed))
    return F.conv2d(frames, weight, stride=8)


def load_frames(folder: Path, count, size):
    paths = sorted(folder.glob('*.jpg'))[:count]
    frames = [
        np.asarray(Image.open(p).convert('RGB').resize(
            size, Image.BILINEAR), dtype=np.float32) / 255 for p in paths
    ]
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)


@pytest.mark.parametrize('settings', [
    dict(topk=7, radius=7, temperature=0.2, n_context=20),
    dict(topk=10, radius=12, temperature=0.05, n_context=3),
    dict(topk=28, radius=35, temperature=0.2, n_context=4),
])
def test_matches_dense_on_real_judo_frames(vendored_data, settings):
    frames = load_frames(vendored_data / 'videos/judo/JPEGImages', 4,
                         (160, 96))
    feats = stride8_random_conv(frames)
    labels = torch.rand(5, *feats.shape[-2:],
                        generator=torch.Generator().manual_seed(1))
    # Real frames have flat regions: exactly tied logits (resolved to the
    # first source on both sides) and near ties that float32 products of
    # different shapes order differently, so compare in float64.
    fast = propagate_labels(feats, labels, dtype=torch.float64, **settings)
    dense = propagate_labels_dense(
        feats, labels, tie_break='first', dtype=torch.float64, **settings)
    assert_same_propagation(fast, dense)


def test_float32_near_tie_is_decided_exactly():
    # Two frame-0 sources whose cosines with the target differ by ~2**-32:
    # float32 rounds both to 1, so a float32 top-1 keeps the first (label
    # 0) while the exact top-1 is the second (label 1).
    feats = torch.tensor([[[[1.0, 1.0]], [[2**-12 + 2**-20, 2**-12]]],
                          [[[1.0, 1.0]], [[0.0, 0.0]]]])
    labels = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])
    settings = dict(topk=1, radius=1, temperature=0.1, n_context=1)
    exact = propagate_labels_dense(
        feats, labels, tie_break='first', dtype=torch.float64, **settings)
    plain32 = propagate_labels_dense(
        feats, labels, tie_break='first', **settings)
    assert exact[1].argmax(0).tolist() == [[1, 1]]
    assert plain32[1].argmax(0).tolist() == [[0, 0]]
    out = propagate_labels(feats, labels, **settings)
    assert out.dtype == torch.float32
    assert_same_propagation(out.double(), exact)


def test_logit_error_bound_covers_float32_products():
    generator = torch.Generator().manual_seed(12)
    for channels in (3, 64, 384):
        raw = torch.randn(200, channels, generator=generator)
        raw[100:] = raw[:100] + 1e-3 * torch.randn(
            100, channels, generator=generator)
        unit64 = F.normalize(raw.double(), dim=1)
        exact = unit64 @ unit64.T / 0.05
        inv_norm = 1 / raw.double().norm(dim=1)
        screened = (unit64.float() @ raw.T) * (inv_norm / 0.05).float()
        bound = logit_error_bound(channels, torch.float32, 0.05)
        assert (screened.double() - exact).abs().max().item() <= bound
    with pytest.raises(ValueError, match='channels'):
        logit_error_bound(2**23, torch.float32, 0.1)


@pytest.mark.parametrize('settings', [
    dict(topk=12, radius=5, temperature=0.05, n_context=4),
    dict(topk=28, radius=35, temperature=0.2, n_context=20),
    dict(topk=3, radius=2.5, temperature=0.5, n_context=2),
])
def test_float32_matches_the_float64_protocol_on_real_frames(
        vendored_data, settings):
    frames = load_frames(vendored_data / 'videos/judo/JPEGImages', 5,
                         (240, 144))
    feats = stride8_random_conv(frames, channels=64, seed=4)
    labels = F.one_hot(
        torch.arange(feats.shape[-2] * feats.shape[-1]).view(
            feats.shape[-2:]) * 7 // feats.shape[-1] % 5,
        5).permute(2, 0, 1).float()
    out = propagate_labels(feats, labels, tile_size=6, **settings)
    assert out.dtype == torch.float32
    expected = propagate_labels_dense(
        feats, labels, tie_break='first', dtype=torch.float64, **settings)
    assert_same_propagation(out.double(), expected)


@pytest.mark.slow
def test_matches_dense_on_a_1080p_crop(vendored_data):
    # 256x384 crops (rows 400:656, columns 700:1084) of 4 1920x1080 frames.
    folder = vendored_data / 'videos/1007_YCTBBdbKSSg_crop/JPEGImages'
    crops = [
        np.asarray(Image.open(p).convert('RGB'), dtype=np.float32) / 255
        for p in sorted(folder.glob('*.jpg'))
    ]
    assert len(crops) == 4 and crops[0].shape == (256, 384, 3)
    frames = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2)
    feats = stride8_random_conv(frames, channels=24, seed=3)
    labels = torch.rand(44, *feats.shape[-2:],
                        generator=torch.Generator().manual_seed(2))
    settings = dict(topk=28, radius=35, temperature=0.2, n_context=20)
    fast = propagate_labels(
        feats, labels, tile_size=8, dtype=torch.float64, **settings)
    dense = propagate_labels_dense(
        feats, labels, tie_break='first', dtype=torch.float64, **settings)
    assert_same_propagation(fast, dense)


def test_streaming_engine_keeps_only_the_context_frames():
    feats, labels = random_case(6, 7, 8, 6, 6, 2)
    engine = StreamingLabelPropagation(
        feats[0], labels, topk=3, radius=2, temperature=0.1, n_context=2)
    for frame in range(1, 7):
        engine.step(feats[frame])
        assert len(engine._bank) <= 2


@pytest.mark.parametrize('kwargs, message', [
    (dict(topk=0), 'topk'),
    (dict(topk=10**6), 'topk'),
    (dict(n_context=0), 'n_context'),
    (dict(radius=0), 'radius'),
    (dict(temperature=-1.0), 'temperature'),
    (dict(tile_size=0), 'tile_size'),
])
def test_bad_settings_name_the_argument(kwargs, message):
    feats, labels = random_case(7, 3, 4, 5, 5, 2)
    settings = dict(topk=3, radius=2, temperature=0.1, n_context=2)
    settings.update(kwargs)
    with pytest.raises(ValueError, match=message):
        propagate_labels(feats, labels, **settings)


def test_bad_inputs_name_the_argument():
    feats, labels = random_case(8, 3, 4, 5, 5, 2)
    settings = dict(topk=3, radius=2, temperature=0.1, n_context=2)
    with pytest.raises(ValueError, match='first_labels grid'):
        propagate_labels(feats, labels[:, :4], **settings)
    with pytest.raises(ValueError, match=r'T >= 1'):
        propagate_labels(feats[:0], labels, **settings)
    with pytest.raises(ValueError, match='feats must be'):
        propagate_labels(feats[0], labels, **settings)
    with pytest.raises(TypeError, match='feats'):
        propagate_labels(feats.long(), labels, **settings)
    with pytest.raises(ValueError, match='no annotation'):
        propagate_labels(feats, torch.zeros_like(labels), **settings)
    nan_labels = labels.clone()
    nan_labels[0, 1, 1] = float('nan')
    with pytest.raises(ValueError, match='first_labels holds NaN'):
        propagate_labels(feats, nan_labels, **settings)
    nan_feats = feats.clone()
    nan_feats[2, 0, 0, 0] = float('inf')
    with pytest.raises(ValueError, match='feats holds NaN'):
        propagate_labels(nan_feats, labels, **settings)
    with pytest.raises(TypeError, match='first_labels'):
        propagate_labels(feats, labels.long(), **settings)
    engine = StreamingLabelPropagation(feats[0], labels, **settings)
    with pytest.raises(ValueError, match='frame 1 has shape'):
        engine.step(feats[1, :, :3])


def test_remember_appends_a_frame_like_step_does():
    feats, labels = random_case(10, 5, 8, 7, 9, 3)
    settings = dict(topk=4, radius=3, temperature=0.1, n_context=2)
    stepped = StreamingLabelPropagation(feats[0], labels, **settings)
    remembered = StreamingLabelPropagation(feats[0], labels, **settings)
    for frame in (1, 2):
        prediction = stepped.step(feats[frame])
        remembered.remember(feats[frame], prediction)
    assert torch.equal(stepped.step(feats[3]), remembered.step(feats[3]))
    with pytest.raises(ValueError, match='labels of frame 4'):
        remembered.remember(feats[4], labels[:2])


@pytest.mark.gpu
def test_cuda_features_with_a_cpu_bank_match_the_cpu_result():
    feats, labels = random_case(11, 5, 16, 12, 13, 3)
    settings = dict(topk=6, radius=4, temperature=0.1, n_context=3)
    expected = propagate_labels(feats, labels, **settings)
    out = propagate_labels(
        feats.cuda(), labels.cuda(), bank_device='cpu', **settings)
    assert out.device.type == 'cuda'
    assert_same_propagation(out.cpu(), expected)
