"""Record the official Spa-then-Temp tracker's propagation: ``golden.npz``.

Runs ``VanillaTracker.forward_test`` of the official repository
(qianduoduolr/Spa-then-Temp, a local copy given by ``--official-root``;
nothing of it is copied here) in float64 on stored features and real label
maps, and saves what ``tests/ops/test_propagation_stt_official.py`` compares
mmsmtc's propagation and post-processing with. See ``README.md`` in this
folder for the command and the shims.

Official code run, extracted from the files by name (``ast``) and executed
unchanged: ``vcl/models/trackers/vanilla_tracker.py`` (``BaseTracker``,
``VanillaTracker``), ``vcl/models/common/local_attention.py``
(``masked_attention_efficient``), ``vcl/models/common/affinity_utils.py``
(``spatial_neighbor``) and ``vcl/models/common/utils.py`` (``cat``,
``video2images``, ``images2video``, ``pil_nearest_interpolate``).

Usage::

    git --git-dir=<mirror of qianduoduolr/Spa-then-Temp> archive 4c94362 \\
        | tar -x -C /tmp/stt_official
    python tests/data/stt_official/make_golden.py \\
        --official-root /tmp/stt_official --out tests/data/stt_official
"""
import argparse
import ast
import types
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

REPO_DATA = Path(__file__).resolve().parents[1]
SEED = 0

#: name -> the official ``test_cfg`` and the inputs of one case. ``labels``:
#: ``'mask'`` (an id map: PIL-nearest to the grid, one-hot, min-max
#: normalised argmax at the image size: DAVIS / VIP) or ``'joints'``
#: (one-hot input: 15 Gaussian maps at the image size, bilinear to the grid:
#: JHMDB). ``features``: ``'judo'`` (a seeded random projection of the
#: real frames, ``tests/data/videos/judo``) or ``'random'``.
CASES = {
    # the DAVIS / VIP config settings (topk 10, temperature 0.07, 20
    # frames, square window on frame 0 too) on a real mask, 24 frames so
    # that the context slides (t = 21 .. 23)
    'mask_config': dict(
        cfg=dict(precede_frames=20, topk=10, temperature=0.07,
                 neighbor_range=24, mode='square', with_first=True,
                 with_first_neighbor=True),
        labels='mask', mask='davis2017_masks/osvos/kite-surf/00000.png',
        image=(120, 214), features='random', frames=24, grid=(10, 18),
        channels=8),
    # real frames: an odd neighbor_range (7 -> radius 3), a short context
    # that slides from t = 3, topk 5
    'judo_square': dict(
        cfg=dict(precede_frames=2, topk=5, temperature=0.07,
                 neighbor_range=7, mode='square', with_first=True,
                 with_first_neighbor=True),
        labels='mask', mask='videos/judo/Annotations/00000.png',
        features='judo', frames=6, stride=16, channels=16),
    # frame 0 outside the window (with_first_neighbor=False), JHMDB-style
    # Gaussian joint maps (one-hot input path)
    'joints_first_unmasked': dict(
        cfg=dict(precede_frames=3, topk=5, temperature=0.07,
                 neighbor_range=10, mode='square', with_first=True,
                 with_first_neighbor=False),
        labels='joints', image=(80, 80), features='random', frames=8,
        grid=(10, 10), channels=8),
    # VFS's own default window: the circle (distance < neighbor_range // 2)
    'mask_circle': dict(
        cfg=dict(precede_frames=4, topk=10, temperature=0.05,
                 neighbor_range=8, mode='circle', with_first=True,
                 with_first_neighbor=True),
        labels='mask', mask='davis2017_masks/osvos/car-shadow/00000.png',
        image=(96, 160), features='random', frames=8, grid=(12, 20),
        channels=8),
}


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
    module = ast.Module(body=nodes, type_ignores=[])
    exec(compile(module, str(path), 'exec'), namespace)
    return namespace


def mmcv_stub() -> types.SimpleNamespace:
    """The two ``mmcv`` functions the code run calls.

    ``imresize(..., backend='pillow')`` is mmcv 1.3's: a uint8 array to a
    PIL image, ``resize(size, NEAREST)``, back to an array.
    """

    def imresize(img, size, interpolation='nearest', backend='pillow'):
        assert interpolation == 'nearest' and backend == 'pillow'
        assert img.dtype == np.uint8, 'Pillow backend only support uint8'
        return np.array(Image.fromarray(img).resize(size, Image.NEAREST))

    return types.SimpleNamespace(imresize=imresize, mkdir_or_exist=None)


class TestCfg(dict):
    """mmcv ``ConfigDict``'s attribute access."""

    def __getattr__(self, name):
        return self[name]


def load_official(root: Path, recorded: list) -> type:
    """The official ``VanillaTracker``, with ``masked_attention_efficient``
    recording its outputs (the soft labels at the grid)."""
    common = root / 'vcl' / 'models' / 'common'
    namespace = dict(torch=torch, nn=nn, F=F, np=np, mmcv=mmcv_stub(),
                     List=list)
    from torch.nn.modules.utils import _pair
    namespace['_pair'] = _pair
    extract(common / 'utils.py', ['cat', 'video2images', 'images2video',
                                  'pil_nearest_interpolate'], namespace)
    extract(common / 'local_attention.py', ['masked_attention_efficient'],
            namespace)
    extract(common / 'affinity_utils.py', ['spatial_neighbor'], namespace)
    official_attention = namespace['masked_attention_efficient']

    def recording_attention(query, key, value, *args, **kwargs):
        # the labels are float32 officially (``.float()``); the float64 run
        # takes them as they are (one-hot: exact; bilinear: float32-rounded)
        output = official_attention(query, key, value.to(query), *args,
                                    **kwargs)
        if not recorded:
            recorded.append(value[0, :, 0].clone())  # frame 0's labels
        recorded.append(output[0].clone())
        return output

    registry = types.SimpleNamespace(register_module=lambda: (lambda c: c))
    namespace.update(
        masked_attention_efficient=recording_attention, MODELS=registry,
        BaseModel=nn.Module, ResNet=type('ResNet', (), {}),
        auto_fp16=lambda: (lambda f: f), osp=None, tempfile=None)
    extract(root / 'vcl' / 'models' / 'trackers' / 'vanilla_tracker.py',
            ['BaseTracker', 'VanillaTracker'], namespace)
    return namespace['VanillaTracker']


def make_tracker(tracker_cls: type, cfg: dict, feats: torch.Tensor):
    """A ``VanillaTracker`` whose "backbone" returns stored features.

    The clip handed to ``forward_test`` holds the frame index in pixel
    ``(0, 0, 0)``; ``extract_feat_test`` looks the features up by it.
    """
    tracker = tracker_cls.__new__(tracker_cls)
    nn.Module.__init__(tracker)
    tracker.test_cfg = TestCfg(cfg, step=7, batch_step=3)
    tracker.save_np = False
    tracker.hard_prop = False
    tracker.mode = cfg['mode']
    tracker.extract_feat_test = lambda imgs: (
        feats[imgs[:, 0, 0, 0].long()], )
    return tracker


def random_features(generator, frames, channels, grid):
    """Features drifting from frame to frame (so the top-k is sharp)."""
    base = torch.randn(channels, *grid, generator=generator)
    drift = torch.randn(frames, channels, *grid, generator=generator)
    return (base + 0.6 * drift).half()


def judo_features(generator, frames, stride, channels):
    """A seeded ``stride x stride`` random projection of the real frames."""
    weight = torch.randn(channels, 3, stride, stride, generator=generator)
    paths = sorted((REPO_DATA / 'videos/judo/JPEGImages').glob('*.jpg'))
    images = np.stack([
        np.asarray(Image.open(p).convert('RGB'), np.float32) / 255
        for p in paths[:frames]
    ])
    images = torch.from_numpy(images).permute(0, 3, 1, 2)
    feats = F.conv2d(images - 0.5, weight / stride, stride=stride)
    return feats.half(), images.shape[-2:]


def joint_maps(generator, image_size, joints=15, sigma=4.0):
    """``(J, H, W)`` peak-1 Gaussians of ``sigma`` px at random joints."""
    height, width = image_size
    centres = torch.rand(joints, 2, generator=generator, dtype=torch.float64)
    centres = centres * torch.tensor([width - 1, height - 1])
    ys = torch.arange(height, dtype=torch.float64)[:, None]
    xs = torch.arange(width, dtype=torch.float64)
    return torch.stack([
        torch.exp(-((xs - x)**2 + (ys - y)**2) / (2 * sigma**2))
        for x, y in centres
    ])


def run_case(tracker_cls, recorded, spec, generator) -> dict:
    if spec['features'] == 'judo':
        feats, image_size = judo_features(generator, spec['frames'],
                                          spec['stride'], spec['channels'])
    else:
        feats = random_features(generator, spec['frames'],
                                spec['channels'], spec['grid'])
        image_size = None
    if spec['labels'] == 'mask':
        mask = np.array(Image.open(REPO_DATA / spec['mask']))
        image_size = image_size or spec['image']
        mask = np.array(
            Image.fromarray(mask).resize(image_size[::-1], Image.NEAREST))
        ref_seg_map = torch.from_numpy(mask)[None]  # (1, H, W) uint8
    else:
        image_size = spec['image']
        ref_seg_map = joint_maps(generator, image_size)[None]
    num_frames = len(feats)
    clip = torch.zeros(1, 1, 3, num_frames, 1, 1, dtype=torch.float64)
    clip[0, 0, 0, :, 0, 0] = torch.arange(num_frames)
    tracker = make_tracker(tracker_cls, spec['cfg'], feats.double())
    recorded.clear()
    meta = [dict(original_shape=tuple(image_size))]
    with torch.no_grad():
        (outputs, ) = tracker.forward_test(clip, ref_seg_map, meta)
    # float32 storage: 6e-8 relative, far below the tests' 1e-5
    result = dict(feats=feats.numpy(),
                  soft=torch.stack(recorded).float().numpy())
    if spec['labels'] == 'mask':
        result['mask'] = mask
        result['pred'] = outputs.astype(np.uint8)  # (T, H, W) ids
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--official-root', type=Path, required=True)
    parser.add_argument('--out', type=Path, required=True)
    args = parser.parse_args()
    recorded = []
    tracker_cls = load_official(args.official_root, recorded)
    generator = torch.Generator().manual_seed(SEED)
    arrays = {}
    for name, spec in CASES.items():
        for key, value in run_case(tracker_cls, recorded, spec,
                                   generator).items():
            arrays[f'{name}/{key}'] = value
    np.savez_compressed(args.out / 'golden.npz', **arrays)


if __name__ == '__main__':
    main()
