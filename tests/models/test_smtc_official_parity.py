"""mmsmtc's SMTC against numbers produced by the official code.

``tests/data/smtc_official/golden.pt`` holds what the official model
(github.com/shvdiwnkozbw/SMTC, run by ``make_golden.py`` in that folder;
see its README) computes on a tiny model with random weights: the training
forward of a student and of a drifted EMA teacher on two views, the three
losses of the official training loop and the student's gradients, and the
official test-time post-processing of a 4-frame video in clips of 3 (the
last one padded). Here the official state dicts go through the
repository's converter into an mmsmtc ``SMTC`` built from ``MODEL_CFG``,
which runs ``loss`` and ``predict`` on the same inputs and instance noise.

Tolerance -- what float32 rounding explains, not a chosen number. With
``o32``/``o64`` the official outputs in float32/float64 and ``m32``/``m64``
mmsmtc's, elementwise ``|o32 - m32| <= |o32 - o64| + |o64 - m64| + |m64 -
m32|``. ``max |o32 - o64|`` was measured when the fixture was made
(``official_fp32_error``), ``max |m64 - m32|`` is measured here by running
mmsmtc in float64 too, and ``o64 - m64`` vanishes up to float64 rounding
when both implement the same maths (``FLOAT64_SLACK`` of the magnitude, a
million times below the float32 terms). For the forward and test-time
outputs that is the whole bound.

mmsmtc's loss modules compute in float32 whatever their input, so in the
"float64" run the losses and their backward still round in float32:

- losses: their own rounding is added a priori (:func:`loss_rounding`);
- gradients: the float32 rounding of the losses' backward left in ``m64``
  is part of what the float32 run rounds too and is of the size that
  ``|m64 - m32|`` measures, so that term counts twice
  (``GRADIENT_FACTOR``).

Measured (Intel Xeon with AVX-512, with and without the oneDNN products,
1 and 2 threads): every difference is at most 0.6 of its bound, and
scaling the slot attention's logits by 1 + 1e-6 already exceeds the bounds
of several gradients.
"""
import copy
import importlib.util
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from torch import nn

from mmsmtc.models.losses import valid_instance_mask
from mmsmtc.registry import MODELS
from mmsmtc.utils.setup_env import register_all_modules

register_all_modules()

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / 'tests' / 'data' / 'smtc_official' / 'golden.pt'
CONVERTER = (ROOT / 'tools' / 'model_converters' /
             'smtc_official_to_mmsmtc.py')

#: The fixture's tiny model (make_golden.py ``TINY``).
C, HEADS, DEPTH, PATCH, PRETRAIN, GRID = 8, 2, 2, 4, 16, 4
S, P, ITERS, CLIP_LEN = 3, 2, 3, 3
MODEL_CFG = dict(type='SMTC',
                 backbone=dict(type='VisionTransformer',
                               arch=dict(patch_size=PATCH,
                                         embed_dim=C,
                                         depth=DEPTH,
                                         num_heads=HEADS),
                               out_types=('keys', ),
                               pretrain_img_size=PRETRAIN,
                               drop_path_rate=0.0),
                 neck=dict(type='CorrelationFusion',
                           in_channels=C,
                           grid_size=GRID),
                 head=dict(type='TwoStageSlotAttention',
                           in_channels=C,
                           num_slots=S,
                           num_instances=P,
                           iters=ITERS),
                 losses=[
                     dict(type='SemanticConsistencyLoss', loss_weight=1.0),
                     dict(type='InstanceConsistencyLoss', loss_weight=1.0),
                     dict(type='SlotDiversityLoss', loss_weight=1.0)
                 ],
                 teacher=dict(momentum=0.999, frozen_parts=('backbone', )),
                 test_clip_len=CLIP_LEN,
                 pad_last_clip=True)
#: Official loss (train.py variable) -> mmsmtc loss name.
LOSS_NAMES = dict(consistency_loss='loss_semantic',
                  instance_loss='loss_instance',
                  differ_loss='loss_diversity')
#: Official output (model(..., p_s) return value) -> mmsmtc output.
OUTPUT_NAMES = dict(motion_mask='semantic_logits',
                    feat='keys',
                    semantic='slots',
                    instance='instance_slots',
                    objects='instance_embeddings',
                    instance_logits='instance_logits')
#: Allowed |o64 - m64|, relative to the output's magnitude.
FLOAT64_SLACK = 1e-9
#: Float32 ulps of a loss's term scale its own arithmetic may round by.
LOSS_ROUNDING_ULPS = 32
#: Weight of ``|m64 - m32|`` in the gradients' bound (module docstring).
GRADIENT_FACTOR = 2
EPS32 = torch.finfo(torch.float32).eps
#: Every threshold decision must be this many times farther from its
#: threshold than the largest float32 error of the official outputs.
MARGIN_FACTOR = 20


# ---------------------------------------------------------------------------
# the fixture and the model
def load_converter():
    spec = importlib.util.spec_from_file_location('smtc_converter', CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def golden():
    if not FIXTURE.is_file():
        pytest.fail(f'{FIXTURE} is missing; it belongs to the repository '
                    '(made by tests/data/smtc_official/make_golden.py)')
    golden = torch.load(FIXTURE, weights_only=True)
    tiny = golden['meta']['tiny']
    made_for = (tiny['embed_dim'], tiny['num_heads'], tiny['depth'],
                tiny['patch_size'], tiny['pretrain_img_size'],
                tiny['resolution'][0] // tiny['patch_size'], tiny['num_slots'],
                tiny['num_instances'], tiny['iters'], tiny['frames'])
    assert made_for == (C, HEADS, DEPTH, PATCH, PRETRAIN, GRID, S, P, ITERS,
                        CLIP_LEN), 'the fixture is for another tiny model'
    return golden


def converted_state_dict(official: Dict[str, torch.Tensor],
                         official_teacher: Dict[str, torch.Tensor]):
    """Student and teacher through the repository's converter, as one
    mmsmtc ``SMTC`` state dict (the converter copies the student into the
    teacher; the fixture's teacher has its own non-encoder weights)."""
    converter = load_converter()
    student, report = converter.convert_state_dict(official)
    assert report == dict(missing=[],
                          unexpected=[],
                          ignored=['encoder.norm.bias', 'encoder.norm.weight'])
    teacher, _ = converter.convert_state_dict({**official, **official_teacher})
    state = {k: v for k, v in student.items() if not k.startswith('teacher.')}
    state.update({
        f'teacher.{k}': v
        for k, v in teacher.items()
        if not k.startswith('teacher.') and k != 'num_train_iters'
    })
    return state


def build_model(golden, official=None):
    """The mmsmtc SMTC with the fixture's (or the given) official weights."""
    model = MODELS.build(copy.deepcopy(MODEL_CFG))
    model.load_state_dict(converted_state_dict(
        golden['official_state_dict'] if official is None else official,
        golden['teacher_state_dict']),
                          strict=True)
    return model


def make_video(golden) -> torch.Tensor:
    """The fixture's test video (``make_golden.make_video``),
    ``(1, 4, 3, H, W)``: the student view's first clip, then the teacher
    view's first frame."""
    inputs = golden['inputs']
    extra = golden['meta']['tiny']['video_frames'] - CLIP_LEN
    return torch.cat(
        [inputs['view_student'][:1], inputs['view_teacher'][:1, :extra]],
        dim=1)


# ---------------------------------------------------------------------------
# running mmsmtc as the official code was run
class ScriptedViews(nn.Module):
    """``view_augment`` that returns the given views in turn (the student's,
    then the teacher's), as the official ``aug_gpu`` calls would."""

    def __init__(self, views: List[torch.Tensor]):
        super().__init__()
        self.views = list(views)

    def forward(self, inputs):
        return self.views.pop(0)


def feed_instance_noise(head: nn.Module, noise: List[torch.Tensor]) -> None:
    """Make ``head`` start its instance slots from the given ``(N, S, P, C)``
    standard normal draws, in turn, instead of drawing them. (A clip longer
    than the next draw, as in a mutation test below, continues with the
    draw after it.)"""
    sample = type(head).sample_instance_init

    def sample_recorded(num_frames, instance_noise=None):
        draws = noise.pop(0)
        while len(draws) < num_frames:
            draws = torch.cat([draws, noise.pop(0)])
        return sample(head, num_frames, draws[:num_frames])

    head.sample_instance_init = sample_recorded


def official_layout(out: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """mmsmtc branch outputs in the official layouts, official names."""
    layout = dict(out)
    layout['keys'] = out['keys'].flatten(3).transpose(2, 3)  # b t hw c
    layout['instance_logits'] = out['instance_logits'].flatten(0, 1)
    return {name: layout[ours] for name, ours in OUTPUT_NAMES.items()}


def run_mmsmtc(model: nn.Module, golden, dtype: torch.dtype):
    """What make_golden.py records, computed by mmsmtc's ``loss`` and
    ``predict`` in ``dtype``.

    Returns:
        dict: tensors under the fixture's names (``train/...``,
        ``inference/...``; gradients as ``grad/<mmsmtc name>``).
    """
    model = copy.deepcopy(model).to(dtype)
    views = [
        golden['inputs'][k].to(dtype) for k in ('view_student', 'view_teacher')
    ]
    noise = golden['noise']
    feed_instance_noise(model.head, [noise['train_student'].to(dtype)])
    feed_instance_noise(model.teacher['head'],
                        [noise['train_teacher'].to(dtype)])
    model.view_augment = ScriptedViews(views)
    branches = []
    loss_inputs = model.loss_inputs

    def keep_loss_inputs(*args):
        branches.extend(loss_inputs(*args))  # student, teacher outputs
        return tuple(branches)

    model.loss_inputs = keep_loss_inputs
    model.train()
    losses = model(views[0], mode='loss')
    total = sum(losses.values())
    total.backward()

    result = {}
    for prefix, out in zip(('student', 'teacher'), branches):
        for name, value in official_layout(out).items():
            result[f'train/{prefix}/{name}'] = value.detach()
    for official_name, name in LOSS_NAMES.items():
        result[f'train/losses/{official_name}'] = losses[name].detach()
    result['train/losses/loss'] = total.detach()
    for suffix, out in zip(('', '_t'), branches):
        result[f'train/valid_instance{suffix}'] = valid_instance_mask(
            out['semantic_logits'], out['slots'], out['instance_slots'])
    for name, param in model.named_parameters():
        if not name.startswith('teacher.'):
            result[f'grad/{name}'] = (torch.zeros_like(param)
                                      if param.grad is None else param.grad)

    model.eval()
    feed_instance_noise(model.head,
                        [z.to(dtype) for z in noise['inference_clips']])
    sample = model(make_video(golden).to(dtype), mode='predict')[0]
    semantic = sample.pred_group_maps.flatten(2).softmax(dim=1)
    scores = sample.pred_slot_scores
    masks = sample.pred_slot_masks
    for index, start in enumerate(range(0, len(scores), CLIP_LEN)):
        frames = slice(start, start + CLIP_LEN)
        prefix = f'inference/clip{index}'
        result[f'{prefix}/semantic_mask'] = semantic[frames]
        result[f'{prefix}/similarity'] = scores[frames].unflatten(-1, (S, P))
        result[f'{prefix}/instance_mask'] = masks[frames].flatten(2).unflatten(
            1, (S, P))
    for frame in range(len(scores)):
        result[f'inference/kept{frame}'] = masks[frame][scores[frame] >= 0.5]
    return result


@pytest.fixture(scope='module')
def model(golden):
    return build_model(golden)


@pytest.fixture(scope='module')
def runs(golden, model):
    return (run_mmsmtc(model, golden,
                       torch.float32), run_mmsmtc(model, golden,
                                                  torch.float64))


# ---------------------------------------------------------------------------
# bounds
def largest(tensor: torch.Tensor) -> float:
    return tensor.double().abs().max().item() if tensor.numel() else 0.0


def rounding_bound(golden,
                   name: str,
                   m32: torch.Tensor,
                   m64: torch.Tensor,
                   ours_factor: float = 1) -> float:
    """``max|o32 - o64| + ours_factor * max|m64 - m32| + slack`` (module
    docstring)."""
    return (golden['official_fp32_error'][name] +
            ours_factor * largest(m32.double() - m64.double()) +
            FLOAT64_SLACK * largest(m64))


def loss_rounding(golden, name: str) -> float:
    """The float32 rounding of an mmsmtc loss module's own arithmetic.

    Each loss is a mean (over pairs, positions, slots) of terms computed by
    a short chain of elementwise operations and one summation, so its own
    rounding is a few ulps per operation plus ``log2(n)`` ulps of pairwise
    summation over ``n`` (a few thousand) terms, of the mean absolute term:
    ``LOSS_ROUNDING_ULPS`` ulps. The mean absolute term is the loss itself
    for the semantic and diversity losses (their terms are all
    non-negative) and at most 2 for the instance loss (a margin-shifted
    cosine minus a cosine, averaged over valid instances).
    """
    official = golden['official']
    scale = dict(consistency_loss=abs(
        official['train/losses/consistency_loss']),
                 differ_loss=abs(official['train/losses/differ_loss']),
                 instance_loss=2.0)
    scale['loss'] = sum(scale.values())
    return LOSS_ROUNDING_ULPS * EPS32 * float(scale[name])


def official_grad_names(golden):
    """Official parameter name -> mmsmtc's (through the converter), None for
    one mmsmtc does not build (the encoder's final norm)."""
    converter = load_converter()
    names = {}
    for name in golden['official_state_dict']:
        try:
            converted, _ = converter.convert_state_dict(
                {name: torch.zeros(1, 1, 1)})
        except converter.ConversionError:
            names[name] = None
            continue
        names[name] = next(
            k for k in converted
            if k != 'num_train_iters' and not k.startswith('teacher.'))
    return names


def comparisons(golden, runs, prefix: str, candidate=None):
    """``[(name, max |official - candidate|, bound)]`` for every fixture
    entry under ``prefix``.

    Args:
        runs: mmsmtc's float32 and float64 results (:func:`run_mmsmtc`),
            which set the bounds.
        candidate: the float32 results compared with the official ones;
            default ``runs[0]``.
    """
    m32, m64 = runs
    candidate = m32 if candidate is None else candidate
    grad_names = official_grad_names(golden)
    rows = []
    for name, official in golden['official'].items():
        if not name.startswith(prefix):
            continue
        key = name
        if name.startswith('train/grad/'):
            ours = grad_names[name[len('train/grad/'):]]
            if ours is None:  # not built by mmsmtc; officially no gradient
                rows.append((name, largest(official), 0.0))
                continue
            key = f'grad/{ours}'
        value = candidate[key]
        if name.startswith('train/grad/'):  # the Conv1d kernel's last dim
            value = value.reshape(official.shape)
        assert value.shape == official.shape, (name, value.shape,
                                               official.shape)
        factor = GRADIENT_FACTOR if name.startswith('train/grad/') else 1
        bound = rounding_bound(golden, name, m32[key], m64[key], factor)
        if name.startswith('train/losses/'):
            bound += loss_rounding(golden, name.split('/')[-1])
        rows.append((name, largest(official.double() - value.double()), bound))
    assert rows, f'no fixture entry under {prefix}'
    return rows


def assert_within(rows) -> None:
    failed = [
        f'{name}: |official - mmsmtc| = {difference:.3g} > '
        f'{bound:.3g}' for name, difference, bound in rows
        if not difference <= bound
    ]
    assert not failed, ('outputs differ from the official beyond float32 '
                        'rounding:\n' + '\n'.join(failed))


# ---------------------------------------------------------------------------
# tests
def test_fixture_decisions_are_far_from_their_thresholds(golden):
    """No thresholded quantity of the fixture sits within rounding of its
    threshold, so both implementations must take the same decisions."""
    errors = golden['official_fp32_error']
    rounding = max(errors.values())
    assert rounding < 1e-5
    close = {
        name: margin
        for name, margin in golden['margins'].items()
        if margin < MARGIN_FACTOR * rounding
    }
    assert not close, (close, rounding)


@pytest.mark.parametrize('prefix',
                         ['train/student/', 'train/teacher/', 'train/losses/'])
def test_training_outputs_and_losses_match_the_official(golden, runs, prefix):
    assert_within(comparisons(golden, runs, prefix))


def test_validity_masks_equal_the_official(golden, runs):
    for name in ('train/valid_instance', 'train/valid_instance_t'):
        official = golden['official'][name]
        assert torch.equal(runs[0][name], official), name
        assert 0 < official.sum() < official.numel(), 'masks not mixed'


def test_gradients_match_the_official(golden, runs):
    rows = comparisons(golden, runs, 'train/grad/')
    assert len(rows) == len(golden['official_state_dict'])
    assert_within(rows)


def test_inference_matches_the_official(golden, runs):
    """Per-slot masks, semantic masks and scores of both clips (the last one
    padded as officially), and the masks the official evaluation keeps."""
    assert_within(comparisons(golden, runs, 'inference/'))
    m32, m64 = runs
    kept = golden['inference_kept']
    assert len(kept) == 4 and any(len(k) for k in kept)
    for frame, official in enumerate(kept):
        name = f'inference/kept{frame}'
        ours = m32[name].reshape(-1, *official.shape[1:])
        assert ours.shape == official.shape, (name, ours.shape, official.shape)
        bound = rounding_bound(golden, name, m32[name], m64[name])
        assert largest(official.double() - ours.double()) <= bound, name


MUTATIONS = ('transposed project_q', 'slot scale x 1.001', 'softmax area',
             'instance margin 0.45', '4 sinkhorn iterations',
             'test clips of 4 frames')


@pytest.mark.parametrize('mutation', MUTATIONS)
def test_the_comparison_detects_a_mismatch(golden, runs, mutation):
    """Small deliberate deviations from the official model fail the
    comparison, so the bounds are not vacuous. (Not among them: an
    unpadded last test clip. With the neck's cyclic correlation the first
    own frame of the official padded clip and of the unpadded one have the
    same predecessor, the video's last frame, and the head works frame by
    frame, so the outputs are the same.)"""
    official = dict(golden['official_state_dict'])
    if mutation == 'transposed project_q':
        name = 'slot_attention.project_q.weight'
        official[name] = official[name].t().contiguous()
    model = build_model(golden, official)
    heads = (model.head, model.teacher['head'])
    if mutation == 'slot scale x 1.001':
        for head in heads:
            head.scale *= 1.001
    if mutation == 'softmax area':
        for head in heads:
            head.area_from = 'softmax'
    if mutation == 'instance margin 0.45':
        model.losses[1].margin = 0.45
    if mutation == '4 sinkhorn iterations':
        model.losses[0].num_iters = 4
    if mutation == 'test clips of 4 frames':
        model.test_clip_len = 4
    mutated = run_mmsmtc(model, golden, torch.float32)
    rows = [
        row for prefix in ('train/', 'inference/')
        for row in comparisons(golden, runs, prefix, candidate=mutated)
    ]
    assert any(difference > bound for _, difference, bound in rows)
