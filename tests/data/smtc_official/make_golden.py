"""Record the official SMTC model's outputs on a tiny model: ``golden.pt``.

Runs the code of the official repository (shvdiwnkozbw/SMTC, a local copy
given by ``--official-root``) -- nothing of it is copied here -- on a tiny
``SlotAttentionAutoEncoder`` with random weights, and saves what
``tests/models/test_smtc_official_parity.py`` compares mmsmtc's SMTC with.
See ``README.md`` in this folder for the command and the shims.

What is recorded (all float32 unless stated):

- ``official_state_dict``: the student's ``model_state_dict``;
  ``teacher_state_dict``: the teacher's entries that differ from it (the
  non-encoder ones: the official EMA never touches the encoder).
- ``inputs``: the student's and the teacher's view of a batch of clips
  (``B x T x 3 x H x W``); the test video is made from them
  (:func:`make_video`).
- ``noise``: the standard normal draws behind every official
  ``torch.normal(mu, sigma)`` of the instance initialisation
  (``train_student``, ``train_teacher``, ``inference_clips``), each
  ``(B * T, S, P, C)``.
- ``train``: the official training forward of the student and of the
  teacher (``model(views, sample_weight, p_s)``), the slot attention's raw
  instance logits (a forward hook), the three losses and their sum as the
  official ``src/train.py`` training loop computes them (its own
  statements, executed from the source file), the validity masks, and the
  student's gradients after ``loss.backward()``.
- ``inference``: the official ``eval_multi.inference`` on a 4-frame video
  in clips of 3 (the last one padded), its kept masks per frame and the
  raw model outputs of each clip.
- ``official_fp32_error``: per recorded output, the largest difference
  between this float32 run and the same official code run in float64 on
  the same weights, inputs and noise (a float64 scalar): the official
  code's own float32 rounding, which the test's tolerance needs.
- ``margins``: the smallest distance of any thresholded quantity to its
  threshold (float64 run), to show no decision sits on a rounding edge.

Usage (the official code needs ``einops``, which mmsmtc does not)::

    pip install --target /tmp/smtc_official_deps einops
    PYTHONPATH=/tmp/smtc_official_deps python \\
        tests/data/smtc_official/make_golden.py \\
        --official-root /tmp/smtc_official \\
        --official-commit 4a31e5c846da941cb50d331e8822e88d5585039a \\
        --out tests/data/smtc_official/golden.pt
"""
import argparse
import ast
import contextlib
import copy
import math
import subprocess
import sys
import tempfile
import types
from functools import partial
from pathlib import Path

import torch
from torch import nn

#: Tiny dimensions (the official model: C=384, patch 16, depth 12, 6
#: heads, S=16, P=4, 3 iterations, 256 x 256 training, 4 frames).
TINY = dict(
    embed_dim=8,  # C
    num_heads=2,
    depth=2,
    patch_size=4,
    pretrain_img_size=16,  # positional grid 4 x 4 (DINO: 224 / 16 = 14)
    resolution=(16, 16),  # official constructor argument: G = 4 x 4
    num_slots=3,  # S
    num_instances=2,  # P
    iters=3,
    batch=2,  # B
    frames=3,  # T
    height=12,  # 3 x 6 patches: both interpolations are exercised
    width=24,
    video_frames=4,  # test clips [0, 1, 2] and [3, 2, 3] (official padding)
)
SEED = 0
SAMPLE_WEIGHT = 0.5  # passed to the official forward, unused by it


# ---------------------------------------------------------------------------
# importing the official code
def _stub_module(name, **attributes):
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules[name] = module
    return module


def install_import_stubs():
    """Empty stand-ins for the official files' imports that no recorded
    function uses (optical-flow visualisation, kornia augmentation, the
    tensorboard writer), so that ``train.py`` and ``eval_multi.py`` import
    without them. Installed only where the real package is missing."""

    class _Unused:

        def __init__(self, *args, **kwargs):
            raise RuntimeError('a stubbed official dependency was called')

    stubs = {
        'cvbase': {},
        'cvbase.optflow': {},
        'cvbase.optflow.visualize':
        dict(flow2rgb=_Unused),
        'kornia': {},
        'kornia.augmentation':
        dict(Normalize=_Unused,
             ColorJitter=_Unused,
             RandomGrayscale=_Unused,
             RandomGaussianBlur=_Unused),
        'kornia.augmentation.container':
        dict(VideoSequential=_Unused),
        'torch.utils.tensorboard':
        dict(SummaryWriter=_Unused),
    }
    installed = []
    for name, attributes in stubs.items():
        try:
            __import__(name)
        except ImportError:
            _stub_module(name, **attributes)
            installed.append(name)
    if 'kornia' in installed:
        sys.modules['kornia'].augmentation = sys.modules['kornia.augmentation']
        sys.modules['kornia.augmentation'].container = sys.modules[
            'kornia.augmentation.container']
    return installed


def import_official(root: Path):
    src = root / 'src'
    if not (src / 'model' / 'model_twostage.py').is_file():
        raise SystemExit(f'{root}: not a copy of shvdiwnkozbw/SMTC (no '
                         'src/model/model_twostage.py)')
    sys.path.insert(0, str(src))
    stubs = install_import_stubs()
    import eval_multi
    import model.model_twostage as model_twostage
    import model.vision_transformer as vision_transformer
    import train
    return dict(model_twostage=model_twostage,
                vision_transformer=vision_transformer,
                train=train,
                eval_multi=eval_multi,
                stubs=stubs)


def official_commit(root: Path, given) -> str:
    """The official commit: ``--official-commit``, or the HEAD of ``root``
    when it is a git work tree of its own."""
    if given:
        return given
    if not (root / '.git').exists():
        raise SystemExit(f'{root} is no git work tree: give the commit it '
                         'was made from with --official-commit')
    return subprocess.run(
        ['git', '-C', str(root), 'rev-parse', 'HEAD'],
        check=True,
        capture_output=True,
        text=True).stdout.strip()


# ---------------------------------------------------------------------------
# shims of the official model
def tiny_autoencoder_class(official):
    """``SlotAttentionAutoEncoder`` at the tiny size.

    The official constructor hard-codes ``encoder_dims = 384``,
    ``down_time = 16`` and ``vit_small(16)`` loaded from ``dino_path``.
    The subclass turns the two attributes into read-only properties (the
    constructor's assignments are ignored) and the module-level
    ``vit_small`` is swapped for the official ``VisionTransformer`` at the
    tiny size (``build_tiny``). Nothing else of the model changes.
    """
    base = official['model_twostage'].SlotAttentionAutoEncoder

    class TinySlotAttentionAutoEncoder(base):
        encoder_dims = property(lambda self: TINY['embed_dim'],
                                lambda self, value: None)
        down_time = property(lambda self: TINY['patch_size'],
                             lambda self, value: None)

    return TinySlotAttentionAutoEncoder


def tiny_vit(official, patch_size=None, **kwargs):
    """The official ``VisionTransformer`` (DINO) at the tiny size, no
    stochastic depth (DINO's default 0.1 is random in training mode)."""
    return official['vision_transformer'].VisionTransformer(
        img_size=[TINY['pretrain_img_size']],
        patch_size=TINY['patch_size'],
        embed_dim=TINY['embed_dim'],
        depth=TINY['depth'],
        num_heads=TINY['num_heads'],
        mlp_ratio=4,
        qkv_bias=True,
        norm_layer=partial(nn.LayerNorm, eps=1e-6),
        drop_path_rate=0.0)


def build_tiny(official, dino_path: Path):
    official['model_twostage'].vit_small = partial(tiny_vit, official)
    model = tiny_autoencoder_class(official)(
        resolution=TINY['resolution'],
        num_slots=TINY['num_slots'],
        num_instances=TINY['num_instances'],
        iters=TINY['iters'],
        num_frames=TINY['frames'],
        dino_path=str(dino_path))
    return model


@torch.no_grad()
def randomise(model: nn.Module, generator: torch.Generator):
    """Random weights with activations of order one (the official init
    makes the ViT's outputs tiny): matrices ``N(0, 1 / fan_in)``, LayerNorm
    scales ``1 + N(0, 0.1^2)``, biases ``N(0, 0.1^2)``, tokens and
    embeddings ``N(0, 0.5^2)``, slot means ``N(0, 1)``, slot log-std
    ``-0.5 + N(0, 0.2^2)``."""
    for name, param in model.named_parameters():
        draw = torch.randn(param.shape, generator=generator)
        if name.endswith('slots_mu'):
            value = draw
        elif name.endswith('slots_sigma'):
            value = -0.5 + 0.2 * draw
        elif name.endswith(('cls_token', 'pos_embed')):
            value = 0.5 * draw
        elif param.dim() == 1 and 'norm' in name and name.endswith('weight'):
            value = 1 + 0.1 * draw
        elif param.dim() == 1:
            value = 0.1 * draw
        else:
            value = draw / math.sqrt(param[0].numel())
        param.copy_(value)


class NormalDraws:
    """``torch.normal(mu, sigma)`` of the official slot attention, recorded
    or replaced.

    ``record``: the official draw runs unchanged; the standard normal
    numbers behind it are recovered by drawing them again from the same
    generator state (``torch.normal(mean, std)`` is ``normal_(0, 1)`` of
    the broadcast shape, then ``* std + mean``), which is checked bitwise.
    ``replay``: returns ``mu + sigma * z`` for the recorded ``z`` (used for
    the float64 run, where the draw would differ).
    """

    def __init__(self):
        self.noise = []
        self.replay_from = None
        self._real = torch.normal

    def __call__(self, mean, std, *args, **kwargs):
        if args or kwargs or not (torch.is_tensor(mean)
                                  and torch.is_tensor(std)):
            return self._real(mean, std, *args, **kwargs)
        shape = torch.broadcast_shapes(mean.shape, std.shape)
        if self.replay_from is not None:
            z = self.replay_from.pop(0).to(mean.dtype)
            return (mean + std * z).detach()  # the draw has no gradient
        state = torch.get_rng_state()
        z = torch.randn(shape, dtype=mean.dtype)
        torch.set_rng_state(state)
        sample = self._real(mean, std)
        if not torch.equal(sample, z * std + mean):
            raise RuntimeError('torch.normal(mean, std) is not '
                               'normal_(0, 1) * std + mean here; the noise '
                               'cannot be recovered')
        self.noise.append(z.clone())
        return sample

    @contextlib.contextmanager
    def installed(self):
        torch.normal = self
        try:
            yield self
        finally:
            torch.normal = self._real


class SlotAttentionOutputs:
    """Forward hook keeping the official slot attention's outputs
    (``semantic_slots, semantic_attn, instance_slots, instance_attn``)."""

    def __init__(self, module):
        self.calls = []
        self.handle = module.register_forward_hook(
            lambda mod, args, out: self.calls.append(
                tuple(o.detach().clone() for o in out)))


# ---------------------------------------------------------------------------
# the official training step's loss statements
def official_loss_statements(train_path: Path):
    """The statements of the official training loop from ``differ_loss =``
    to ``loss = ...`` (``src/train.py``), compiled from the file itself,
    with their line span."""
    tree = ast.parse(train_path.read_text(), str(train_path))
    main = next(node for node in tree.body
                if isinstance(node, ast.FunctionDef) and node.name == 'main')

    def assigns(statement, name):
        return isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name
            for target in statement.targets)

    for node in ast.walk(main):
        body = getattr(node, 'body', None)
        if not isinstance(body, list):
            continue
        starts = [i for i, s in enumerate(body) if assigns(s, 'differ_loss')]
        ends = [i for i, s in enumerate(body) if assigns(s, 'loss')]
        if starts and ends:
            statements = body[starts[0]:ends[0] + 1]
            code = compile(ast.Module(body=statements, type_ignores=[]),
                           str(train_path), 'exec')
            return code, (statements[0].lineno, statements[-1].end_lineno)
    raise SystemExit(f'{train_path}: the loss statements of the training '
                     'loop (differ_loss = ... loss = ...) were not found')


# ---------------------------------------------------------------------------
# one complete run (float32 records, float64 replays)
def run_official(official, student, teacher, views, loss_code):
    """Training forward + losses + backward, then the official inference.

    Returns a dict of tensors (detached), the inference kept masks and the
    semantic logits of the inference clips.
    """
    view_s, view_t = views
    hook_s = SlotAttentionOutputs(student.slot_attention)
    hook_t = SlotAttentionOutputs(teacher.slot_attention)
    p_s = torch.zeros(1)  # any non-None value selects the training outputs

    student.train()
    teacher.eval()
    for param in teacher.parameters():
        param.requires_grad = False
    student.zero_grad(set_to_none=True)
    outputs_s = student(view_s, SAMPLE_WEIGHT, p_s)
    outputs_t = teacher(view_t, SAMPLE_WEIGHT, p_s)
    names = ('motion_mask', 'feat', 'semantic', 'instance', 'objects')
    scope = dict(vars(official['train']))
    scope.update({name: value for name, value in zip(names, outputs_s)})
    scope.update({f'{name}_t': value for name, value in zip(names, outputs_t)})
    scope.update(num_slots=TINY['num_slots'],
                 ent_scale=1.0,
                 cons_scale=1.0,
                 entro_cons=True,
                 bi_cons=True)
    exec(loss_code, scope)  # the official statements
    scope['loss'].backward()

    record = {}
    for prefix, outputs, hook in (('student', outputs_s, hook_s),
                                  ('teacher', outputs_t, hook_t)):
        for name, value in zip(names, outputs):
            record[f'train/{prefix}/{name}'] = value.detach().clone()
        record[f'train/{prefix}/instance_logits'] = hook.calls[-1][3]
    for name in ('differ_loss', 'consistency_loss', 'instance_loss', 'loss'):
        record[f'train/losses/{name}'] = scope[name].detach().clone()
    record['train/valid_instance'] = scope['valid_instance'].clone()
    record['train/valid_instance_t'] = scope['valid_instance_t'].clone()
    for name, param in student.named_parameters():
        grad = param.grad
        record[f'train/grad/{name}'] = (torch.zeros_like(param)
                                        if grad is None else grad.clone())

    student.eval()
    video = make_video(view_s, view_t)
    clips = []

    def recorded_model(clip):
        out = student(clip)
        clips.append([value.detach().clone() for value in out[:3]])
        return out

    num_frames = video.shape[1]
    collection = official['eval_multi'].inference(
        {i: []
         for i in range(num_frames)}, 4, video, None, recorded_model,
        num_frames, None, TINY['frames'])
    clip_len = TINY['frames']
    clip_outputs = ('semantic_mask', 'similarity', 'instance_mask')
    for index, outputs in enumerate(clips):
        own = min(clip_len, num_frames - index * clip_len)  # as inference
        for name, value in zip(clip_outputs, outputs):
            record[f'inference/clip{index}/{name}'] = value[0, :own]
    kept = [collection[i][0][0, :, 0] for i in range(num_frames)]
    inference_logits = torch.stack([call[1] for call in hook_s.calls[1:]])
    hook_s.handle.remove()
    hook_t.handle.remove()
    return record, kept, inference_logits


def make_video(view_s: torch.Tensor, view_t: torch.Tensor) -> torch.Tensor:
    """``(1, 4, 3, H, W)``: the student view's first clip, then the first
    frame of the teacher view's first clip (the test builds the same)."""
    extra = TINY['video_frames'] - TINY['frames']
    return torch.cat([view_s[:1], view_t[:1, :extra]], dim=1)


def threshold_margins(record, kept_scores, inference_logits):
    """Smallest distance to each threshold the official code applies."""
    margins = {}
    for branch in ('student', 'teacher'):
        logits = record[f'train/{branch}/motion_mask']
        margins[f'{branch} semantic area (logits vs 0.3)'] = (logits -
                                                              0.3).abs().min()
        probs = logits.softmax(dim=-2)
        margins[f'{branch} valid area (softmax vs 0.3)'] = (probs -
                                                            0.3).abs().min()
        area = (probs > 0.3).double().mean(-1)
        margins[f'{branch} valid area (fraction vs 0.2)'] = (area -
                                                             0.2).abs().min()
        slots = nn.functional.normalize(record[f'train/{branch}/semantic'],
                                        dim=-1)
        instances = nn.functional.normalize(record[f'train/{branch}/instance'],
                                            dim=-1)
        similarity = torch.einsum('btsc,btspc->btsp', slots, instances)
        margins[f'{branch} valid similarity (vs 0.5)'] = (similarity -
                                                          0.5).abs().min()
    margins['inference scores (vs 0.5)'] = (kept_scores - 0.5).abs().min()
    margins['inference semantic area (logits vs 0.3)'] = (inference_logits -
                                                          0.3).abs().min()
    objects_s = record['train/student/objects']
    objects_t = record['train/teacher/objects']
    # the gap between the best and second-best assignment of each matching
    costs = 1 - torch.einsum('bispc,bjsqc->bijspq', objects_s, objects_t)
    swapped = costs[..., 0, 1] + costs[..., 1, 0]
    straight = costs[..., 0, 0] + costs[..., 1, 1]
    margins['instance matching (cost gap)'] = (swapped - straight).abs().min()
    return {name: float(value) for name, value in margins.items()}


def share_one_storage(tree):
    """The same nested dicts/lists with every tensor a view of one float32
    storage, which ``torch.save`` then writes once (instead of one archive
    record per tensor: a third of the file)."""
    tensors = []

    def collect(node):
        if torch.is_tensor(node):
            tensors.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                collect(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                collect(value)

    collect(tree)
    if any(t.dtype != torch.float32 for t in tensors):
        raise SystemExit('the fixture stores float32 tensors only')
    flat = torch.cat([t.detach().reshape(-1) for t in tensors])
    offsets = iter(
        torch.tensor([0] + [t.numel() for t in tensors]).cumsum(0).tolist())
    start = next(offsets)

    def rebuild(node):
        nonlocal start
        if torch.is_tensor(node):
            end = next(offsets)
            view = flat[start:end].view(node.shape)
            start = end
            return view
        if isinstance(node, dict):
            return {key: rebuild(value) for key, value in node.items()}
        if isinstance(node, (list, tuple)):
            return type(node)(rebuild(value) for value in node)
        return node

    return rebuild(tree)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--official-root',
                        type=Path,
                        required=True,
                        help='a copy of github.com/shvdiwnkozbw/SMTC')
    parser.add_argument('--official-commit',
                        default=None,
                        help='its commit, required when --official-root '
                        'is no git work tree (e.g. a git archive)')
    parser.add_argument('--out', type=Path, required=True)
    args = parser.parse_args(argv)
    if TINY['num_instances'] != 2:
        raise SystemExit('threshold_margins assumes P = 2')

    commit = official_commit(args.official_root, args.official_commit)
    official = import_official(args.official_root)
    loss_code, loss_lines = official_loss_statements(args.official_root /
                                                     'src' / 'train.py')
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        dino_path = Path(tmp) / 'no_dino_weights.pth'
        torch.save({}, dino_path)  # loaded with strict=False: nothing
        student = build_tiny(official, dino_path)
        teacher = build_tiny(official, dino_path)
    randomise(student, generator)
    teacher.load_state_dict(student.state_dict())  # as train.py does
    with torch.no_grad():  # an EMA teacher that has drifted (not encoder)
        for name, param in teacher.named_parameters():
            if not name.startswith('encoder.'):
                draw = torch.randn(param.shape, generator=generator)
                param.add_(0.2 * param.abs().mean() * draw)
    shape = (TINY['batch'], TINY['frames'], 3, TINY['height'], TINY['width'])
    views = (torch.randn(shape, generator=generator),
             torch.randn(shape, generator=generator))
    state_student = {k: v.clone() for k, v in student.state_dict().items()}
    state_teacher = {
        k: v.clone()
        for k, v in teacher.state_dict().items()
        if not k.startswith('encoder.')
    }

    torch.manual_seed(SEED + 1)  # the official torch.normal draws
    draws = NormalDraws()
    with draws.installed():
        record32, kept32, _ = run_official(official, student, teacher, views,
                                           loss_code)
    noise = [z.clone() for z in draws.noise]

    student64 = copy.deepcopy(student).double()
    teacher64 = copy.deepcopy(teacher).double()
    replay = NormalDraws()
    replay.replay_from = [z.double() for z in noise]
    with replay.installed():
        record64, kept64, logits64 = run_official(
            official, student64, teacher64, tuple(v.double() for v in views),
            loss_code)
    if replay.replay_from:
        raise SystemExit('the float64 run drew fewer instance inits')

    errors = {}
    for name, value in record32.items():
        errors[name] = float((value.double() - record64[name]).abs().max())
        if name.startswith('train/valid') and errors[name]:
            raise SystemExit(f'{name}: float32 and float64 decide '
                             'differently; choose another seed')
    for frame, (a, b) in enumerate(zip(kept32, kept64)):
        if a.shape != b.shape:
            raise SystemExit(f'frame {frame}: float32 and float64 keep '
                             'different masks; choose another seed')
        errors[f'inference/kept{frame}'] = float(
            (a.double() - b).abs().max()) if a.numel() else 0.0
    scores64 = torch.cat([
        record64[f'inference/clip{i}/similarity'].flatten() for i in range(2)
    ])
    margins = threshold_margins(record64, scores64, logits64)

    golden = dict(
        meta=dict(official_repository='https://github.com/shvdiwnkozbw/SMTC',
                  official_commit=commit,
                  official_loss_lines=f'src/train.py:{loss_lines[0]}-'
                  f'{loss_lines[1]}',
                  stubbed_imports=official['stubs'],
                  torch_version=str(torch.__version__),
                  tiny=TINY,
                  seed=SEED,
                  sample_weight=SAMPLE_WEIGHT),
        official_state_dict=state_student,
        teacher_state_dict=state_teacher,
        inputs=dict(view_student=views[0], view_teacher=views[1]),
        noise=dict(train_student=noise[0],
                   train_teacher=noise[1],
                   inference_clips=noise[2:]),
        official={
            k: v.float()
            for k, v in record32.items()
        },
        inference_kept=[m.float() for m in kept32],
        official_fp32_error=errors,
        margins=margins,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(share_one_storage(golden), args.out)
    print(f'official commit {golden["meta"]["official_commit"]}, loss '
          f'statements {golden["meta"]["official_loss_lines"]}, stubs '
          f'{official["stubs"]}')
    print('losses: ' +
          ', '.join(f'{n.split("/")[-1]}={float(record32[n]):.6f}'
                    for n in record32 if n.startswith('train/losses/')))
    valid = record32['train/valid_instance']
    valid_t = record32['train/valid_instance_t']
    print(f'valid instances: student {int(valid.sum())}/{valid.numel()}, '
          f'teacher {int(valid_t.sum())}/{valid_t.numel()}; kept masks '
          f'per frame {[int(m.shape[0]) for m in kept32]}')
    print('official float32 vs float64, largest differences:')
    for name, value in errors.items():
        print(f'  {name}: {value:.3g}')
    print('threshold margins (float64):')
    for name, value in margins.items():
        print(f'  {name}: {value:.3g}')
    print(f'wrote {args.out} ({args.out.stat().st_size} bytes)')


if __name__ == '__main__':
    main()
