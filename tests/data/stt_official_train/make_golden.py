"""Record the official Spa-then-Temp training losses: ``golden.npz``.

Runs ``Framework.forward_train`` of the official repository
(qianduoduolr/Spa-then-Temp, commit ``4c94362``; a local copy given by
``--official-root``, nothing of it is copied here) in float64 on real frames
with tiny seeded networks, and saves the inputs, the networks' weights and
the four losses, which ``tests/models/test_stt_official_parity.py``
compares mmsmtc's ``SpaThenTemp`` with. See ``README.md`` in this folder.

Official code run, top-level definitions extracted by name (``ast``) and
executed unchanged:

- ``vcl/models/trackers/framework.py``: ``Framework`` (``forward_train``,
  ``prep``, ``dropout2d_lab``, ``compute_lphoto``);
- ``vcl/models/common/correlation.py``: ``non_local_correlation``,
  ``frame_transform``;
- ``vcl/models/common/utils.py``: ``make_mask``;
- ``vcl/models/losses/utils.py``: ``reduce_loss``, ``mask_reduce_loss``,
  ``masked_loss``; ``vcl/models/losses/losses.py``: ``mse_loss``,
  ``MSELoss``;
- ``vcl/datasets/pipelines/augmentation.py``: ``RGB2LAB``.

Shims: ``mmcv.ops.Correlation`` (CUDA only) is replaced by
:class:`DenseCorrelation`, its definition computed from a dense dot-product
matrix (channel sums of products at every displacement ``(dy, dx)``,
``|dy|, |dx| <= R``, zero outside the map; see the class); ``make_mask``'s
``.cuda()`` returns the CPU tensor; registries, ``BaseModel`` (an
``nn.Module``) and the logger are stubs; ``Framework.__init__`` (which only
builds the backbones from mmcv configs, the loss, the masks and the
correlation ops) is replaced by setting the same attributes, with the
official defaults and the released config's values (``loss_weight`` 1 / 1 /
1000 / 50, ``detach=True``, ``T=0.7``, ``weight=20``, ``temperature_t=0.07``,
``scaling=True``, ``norm=False``) and the tiny networks of
:class:`TinyPyramid` as ``backbone`` (three maps) and ``backbone_t`` (one).
``prep``'s ``.float()`` result is cast back to float64 (exact: the LAB
values are float32 numbers). ``np.random`` is seeded per case; the dropped
channel it draws is saved.
numpy 2 refuses ``int()`` of a one-element array, which ``dropout2d_lab``
does: the namespace's ``np.random.choice`` returns arrays that allow it
(:func:`legacy_numpy`; same generator, same draws).

Usage::

    git --git-dir=<mirror of qianduoduolr/Spa-then-Temp> archive 4c94362 vcl \\
        | tar -x -C /tmp/stt_official
    python tests/data/stt_official_train/make_golden.py \\
        --official-root /tmp/stt_official --out tests/data/stt_official_train
"""
import argparse
import ast
import copy
import functools
import types
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_DATA = Path(__file__).resolve().parents[1]
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)
LAB_MEAN = (50.0, 0.0, 0.0)
LAB_STD = (50.0, 127.0, 127.0)

#: name -> frame size (square, the official reshape assumes it), frames
#: (reference, target) of tests/data/videos/judo, window radii, np seed.
CASES = {
    'judo64': dict(size=64, frames=(0, 1), radius=(4, 2), seed=0),
    'judo96': dict(size=96, frames=(1, 0), radius=(6, 3), seed=1),
}
#: Output channels of the tiny networks' stages; strides (2 for the stem
#: conv) 2, 2, 4: maps at strides 4, 8 and 32 like the official student.
STUDENT_CHANNELS = (8, 12, 16)
TEACHER_CHANNELS = (6, 10, 12)


class TinyPyramid(nn.Module):
    """Stem (3x3 conv, stride 2) and three stages (3x3 conv, BN, ReLU) of
    strides 2, 2, 4; returns the maps of ``out_indices`` as a tuple.
    Imported by the parity test to rebuild the stored networks."""

    strides = (2, 2, 4)

    def __init__(self, channels, out_indices=(0, 1, 2)):
        super().__init__()
        self.out_indices = tuple(out_indices)
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels[0], 3, 2, 1, bias=False),
            nn.BatchNorm2d(channels[0]), nn.ReLU())
        stages, previous = [], channels[0]
        for width, stride in zip(channels, self.strides):
            stages.append(
                nn.Sequential(
                    nn.Conv2d(previous, width, 3, stride, 1, bias=False),
                    nn.BatchNorm2d(width), nn.ReLU()))
            previous = width
        self.stages = nn.ModuleList(stages)

    def forward(self, images):
        features, outputs = self.stem(images), []
        for index, stage in enumerate(self.stages):
            features = stage(features)
            if index in self.out_indices:
                outputs.append(features)
        return tuple(outputs)


def seeded_network(channels, out_indices, seed):
    """A TinyPyramid with seeded weights and BN statistics."""
    torch.manual_seed(seed)
    network = TinyPyramid(channels, out_indices)
    for module in network.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
            module.running_mean.uniform_(-0.3, 0.3)
            module.running_var.uniform_(0.5, 2.0)
    return network


def extract(path: Path, names, namespace: dict) -> dict:
    """Execute the top-level definitions ``names`` of a source file."""
    tree = ast.parse(path.read_text())
    nodes = [
        node for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
        and node.name in names
    ]
    missing = set(names) - {node.name for node in nodes}
    if missing:
        raise RuntimeError(f'{path}: no {sorted(missing)}')
    exec(compile(ast.Module(body=nodes, type_ignores=[]), str(path), 'exec'),
         namespace)
    return namespace


class DenseCorrelation:
    """``mmcv.ops.Correlation(max_displacement=R)`` (kernel 1, stride 1,
    no padding / dilation) from a dense dot-product matrix: output
    ``[b, R + dy, R + dx, y, x] = <f1[b, :, y, x], f2[b, :, y + dy,
    x + dx]>`` (0 outside the map)."""

    def __init__(self, max_displacement):
        self.radius = max_displacement

    def __call__(self, input1, input2):
        batch, _, height, width = input1.shape
        dense = torch.einsum('bci,bcj->bij', input1.flatten(2),
                             input2.flatten(2))
        side = 2 * self.radius + 1
        out = input1.new_zeros(batch, side, side, height, width)
        for y in range(height):
            for x in range(width):
                for p in range(side):
                    for s in range(side):
                        yy, xx = y + p - self.radius, x + s - self.radius
                        if 0 <= yy < height and 0 <= xx < width:
                            out[:, p, s, y, x] = dense[:, y * width + x,
                                                       yy * width + xx]
        return out


class _LegacyIntArray(np.ndarray):
    """numpy < 1.25 behaviour the official code relies on: ``int()`` of a
    one-element array (``int(np.random.choice(..., 1))``)."""

    def __int__(self):
        return int(self.reshape(-1)[0])


def legacy_numpy() -> types.ModuleType:
    """``numpy`` whose ``random.choice`` returns :class:`_LegacyIntArray`
    (same global generator, same draws)."""
    shim = types.ModuleType('numpy')
    shim.__dict__.update(np.__dict__)
    shim.random = types.SimpleNamespace(
        choice=lambda *args, **kwargs: np.asarray(
            np.random.choice(*args, **kwargs)).view(_LegacyIntArray))
    return shim


def load_official(root: Path) -> dict:
    """The official functions and classes in one namespace."""
    registry = types.SimpleNamespace(register_module=lambda: (lambda c: c))
    namespace = dict(torch=torch, nn=nn, F=F, np=legacy_numpy(), cv2=cv2,
                     copy=copy,
                     functools=functools,
                     LOSSES=registry, MODELS=registry, PIPELINES=registry,
                     BaseModel=nn.Module)
    vcl = root / 'vcl'
    extract(vcl / 'models/losses/utils.py',
            ['reduce_loss', 'mask_reduce_loss', 'masked_loss'], namespace)
    extract(vcl / 'models/losses/losses.py', ['mse_loss', 'MSELoss'],
            namespace)
    extract(vcl / 'models/common/utils.py', ['make_mask'], namespace)
    extract(vcl / 'models/common/correlation.py',
            ['non_local_correlation', 'frame_transform'], namespace)
    extract(vcl / 'models/trackers/framework.py', ['Framework'], namespace)
    extract(vcl / 'datasets/pipelines/augmentation.py', ['RGB2LAB'],
            namespace)
    return namespace


def official_framework(namespace, student, teacher, size, radius):
    """``Framework`` with the released config's settings, built without
    its mmcv-config ``__init__``."""
    framework_cls = namespace['Framework']
    framework = framework_cls.__new__(framework_cls)
    nn.Module.__init__(framework)
    feat_size = [size // 4, size // 8]
    framework.backbone = student
    framework.backbone_t = teacher
    framework.loss = namespace['MSELoss'](reduction='mean')
    original_cuda = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    try:
        framework.mask = [namespace['make_mask'](feat_size[i], radius[i])
                          for i in range(len(radius))]
    finally:
        torch.Tensor.cuda = original_cuda
    framework.corr = [DenseCorrelation(r) for r in radius]
    framework.num_stage = 2
    framework.feat_size = feat_size
    framework.downsample_rate = [4, 8]
    framework.weight = 20
    framework.temperature = 1.0
    framework.temperature_t = 0.07
    framework.scaling = True
    framework.norm = False
    framework.T = 0.7
    framework.detach = True
    framework.loss_weight = dict(stage0_l1_loss=1, stage1_l1_loss=1,
                                 local_corrdis_loss=1000,
                                 global_corrdis_loss=50)
    # prep casts the LAB target to float32 (``.float()``); the values are
    # float32 numbers already (OpenCV's LAB, normalised in float32), so
    # casting the result back to float64 is exact
    official_prep = framework.prep
    framework.prep = lambda image, downsample_rate: official_prep(
        image, downsample_rate).double()
    return framework.double().train()


def load_frames(indices, size):
    """uint8 ``(T, size, size, 3)`` RGB judo frames (OpenCV bilinear)."""
    folder = REPO_DATA / 'videos/judo/JPEGImages'
    frames = []
    for index in indices:
        image = cv2.imread(str(folder / f'{index:05d}.jpg'))[..., ::-1]
        frames.append(cv2.resize(image, (size, size),
                                 interpolation=cv2.INTER_LINEAR))
    return np.stack(frames)


def run_case(namespace, case):
    frames = load_frames(case['frames'], case['size'])
    # batch of 2: the clip and its horizontal flip
    clips = np.stack([frames, np.ascontiguousarray(frames[:, :, ::-1])])
    lab = np.stack([
        namespace['RGB2LAB']()(dict(imgs=list(clip)))['imgs']
        for clip in clips
    ])
    imgs = (clips.astype(np.float32) - np.float32(IMAGENET_MEAN)) / \
        np.float32(IMAGENET_STD)
    lab = (lab - np.float32(LAB_MEAN)) / np.float32(LAB_STD)
    to_input = lambda x: torch.from_numpy(  # noqa: E731
        np.ascontiguousarray(x.transpose(0, 1, 4, 2, 3))).double()[:, None]
    student = seeded_network(STUDENT_CHANNELS, (0, 1, 2), case['seed'])
    teacher = seeded_network(TEACHER_CHANNELS, (2, ), case['seed'] + 100)
    student_state = copy.deepcopy(student.state_dict())
    teacher_state = copy.deepcopy(teacher.state_dict())
    teacher_single = _SingleOutput(teacher)
    framework = official_framework(namespace, student.double(),
                                   teacher_single.double(), case['size'],
                                   case['radius'])
    np.random.seed(case['seed'])
    state = np.random.get_state()
    np.random.choice(np.arange(1, 2), 1)  # dropout2d_lab's first draw
    drop = int(np.random.choice(np.arange(1, 3), 1, replace=False)[0])
    np.random.set_state(state)  # dropout2d_lab draws again: the same
    losses = framework.forward_train(to_input(imgs), to_input(lab))
    out = dict(rgb=clips, drop_channel=np.array(drop),
               radius=np.array(case['radius']))
    out.update({f'loss_{k}': v.detach().numpy() for k, v in losses.items()})
    out.update({f'student.{k}': v.numpy() for k, v in student_state.items()})
    out.update({f'teacher.{k}': v.numpy() for k, v in teacher_state.items()})
    return out


class _SingleOutput(nn.Module):
    """The official teacher (``out_indices=(3, )``) returns a tensor."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, images):
        return self.network(images)[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--official-root', type=Path, required=True)
    parser.add_argument('--out', type=Path, required=True)
    args = parser.parse_args()
    namespace = load_official(args.official_root)
    arrays = {}
    for name, case in CASES.items():
        for key, value in run_case(namespace, case).items():
            arrays[f'{name}/{key}'] = value
        print(name, {k: float(v) for k, v in arrays.items()
                     if k.startswith(f'{name}/loss_')})
    np.savez_compressed(args.out / 'golden.npz', **arrays)


if __name__ == '__main__':
    main()
