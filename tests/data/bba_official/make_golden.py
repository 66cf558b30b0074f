"""Regenerate the Betrayed-by-Attention golden fixtures from the official code.

Runs the official ``shvdiwnkozbw/SSL-UVOS`` code (HEAD ``d220ef3``) with
random weights on a tiny setup and stores what mmsmtc must reproduce:

- ``official_tiny.pth``: an official-layout checkpoint (``iteration``,
  ``model_state_dict``, ``optimizer_state_dict``, ``loss``) of a tiny
  ``AttEncoder``: DINO ViT with patch 8, width 32, 2 blocks, 4 heads, a
  64x64 positional grid (8x8 + cls), and the spatio-temporal block at width
  32 with 8 heads (its qkv weights scaled by ``QKV_SCALE`` so that the
  attention is peaked and the clustering finds several clusters). Weights
  are stored in float16 (fixture size) and used as float32 everywhere.
- ``golden.pth``: the uint8 frames (7 frames of 32x48), the ImageNet
  normalisation the test applies, and the official outputs:
  ``keys`` (7, 32, 4, 6) of ``encoder(frames)``; the full-matrix
  ``inference`` attention (168, 72) with ``ratio=2`` and its cluster ids;
  the ``mem_efficient_inference`` cluster ids; the training losses
  (``slot_loss``, ``motion_loss``) of the first three frames in eval mode
  (dropout off) after ``torch.manual_seed(LOSS_SEED)``, and their anchors;
  ``hierarchical_cluster`` ids of a constructed attention matrix
  (``cluster_attention``) with three groups of rows.

Official functions are taken from the snapshot's source text (``ast``) and
run unmodified; the training losses are the official loop body between
``num_points = 8`` and ``loss = ...``. Only ``einops`` is needed besides
torch (``pip install --target DEPS einops``).

Usage::

    python tests/data/bba_official/make_golden.py \
        --official /tmp/bba_official/src --deps /tmp/bba_deps
"""
import argparse
import ast
import sys
import textwrap
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
QKV_SCALE = 3.0
LOSS_SEED = 3
RATIO = 2
TAU = 1.0
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def official_functions(path: Path, names, namespace):
    """Exec the top-level functions ``names`` of ``path`` into namespace."""
    tree = ast.parse(path.read_text())
    nodes = [n for n in tree.body
             if isinstance(n, ast.FunctionDef) and n.name in names]
    exec(compile(ast.Module(nodes, []), str(path), 'exec'), namespace)


def official_loss_code(path: Path) -> str:
    """The official loop body that computes slot_loss and motion_loss."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.strip() == 'num_points = 8')
    stop = next(i for i, line in enumerate(lines)
                if line.strip().startswith('loss = (slot_loss'))
    return textwrap.dedent('\n'.join(lines[start:stop]))


def build_official(src: Path):
    sys.path.insert(0, str(src))
    from model.attention import Block
    from model.model_cluster import AttEncoder
    from model.vision_transformer import VisionTransformer
    torch.manual_seed(0)
    model = AttEncoder(resolution=(32, 48), num_frames=3)
    model.encoder = VisionTransformer(
        img_size=[64], patch_size=8, embed_dim=32, depth=2, num_heads=4,
        mlp_ratio=4, qkv_bias=True,
        norm_layer=partial(nn.LayerNorm, eps=1e-6))
    model.temporal_transformer = nn.ModuleList(
        [Block(dim=32, num_heads=8, n_token=3, drop=0.1, attn_drop=0.4)])
    with torch.no_grad():
        for name, value in model.named_parameters():
            if name.startswith('temporal_transformer') and value.dim() > 1:
                value.normal_(0, 0.1)
        model.temporal_transformer[0].attn.qkv.weight.mul_(QKV_SCALE)
        for value in model.state_dict().values():
            value.copy_(value.half().float())
    return model.eval()


def first_appearance(labels: torch.Tensor) -> torch.Tensor:
    mapping, out = {}, []
    for value in labels.tolist():
        out.append(mapping.setdefault(value, len(mapping)))
    return torch.tensor(out)


def masks_to_ids(masks_collection, frames: int) -> torch.Tensor:
    """``{t: [(1, K, 1, h, w)]}`` one-hot masks -> first-appearance ids."""
    masks = torch.stack(
        [masks_collection[t][0][0, :, 0] for t in range(frames)])
    return first_appearance(masks.argmax(1).flatten())


def constructed_attention() -> torch.Tensor:
    """Three groups of peaked rows over 48 keys, 7 frames x 24 patches."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3.0, size=(3, 48))
    group = rng.integers(0, 3, size=7 * 24)
    logits = centres[group] + rng.normal(0, 0.3, size=(7 * 24, 48))
    return torch.from_numpy(logits).float().softmax(-1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--official', type=Path, required=True,
                        help="the snapshot's src/ folder")
    parser.add_argument('--deps', type=Path, help='folder holding einops')
    args = parser.parse_args()
    if args.deps:
        sys.path.insert(0, str(args.deps))
    import einops
    model = build_official(args.official)

    rng = np.random.default_rng(1)
    frames_u8 = torch.from_numpy(
        rng.integers(0, 256, size=(7, 3, 32, 48), dtype=np.uint8))
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    rgbs = ((frames_u8.float() / 255 - mean) / std)[None]

    namespace = dict(torch=torch, einops=einops, F=nn.functional)
    official_functions(
        args.official / 'eval_oneshot.py',
        ('kl_distance', 'hierarchical_cluster',
         'mem_efficient_hierarchical_cluster', 'inference',
         'mem_efficient_inference'), namespace)
    captured = {}
    cluster = namespace['hierarchical_cluster']

    def capture(attn, **kwargs):
        captured['attention'] = attn.reshape(-1, attn.shape[-1]).clone()
        return cluster(attn, **kwargs)

    namespace['hierarchical_cluster'] = capture
    with torch.no_grad():
        keys = model.encoder(rgbs[0])[3]
        full = namespace['inference']({t: [] for t in range(7)}, rgbs, None,
                                      model, 7, RATIO, TAU, 'cpu')
        efficient = namespace['mem_efficient_inference'](
            {t: [] for t in range(7)}, rgbs, None, model, 7, RATIO, TAU,
            'cpu')
        torch.manual_seed(LOSS_SEED)
        _, _, motion_mask, slot, _ = model(rgbs[:, :3], training=True)
        loss_scope = dict(torch=torch, einops=einops, F=nn.functional,
                          motion_mask=motion_mask, slot=slot, num_frames=3)
        exec(official_loss_code(args.official / 'train_RGB_cluster.py'),
             loss_scope)
        attention = constructed_attention()
        constructed = cluster(attention.view(7, 24, 48), tau=TAU,
                              num_iter=10000, device='cpu')
    golden = dict(
        frames=frames_u8,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        ratio=RATIO,
        tau=TAU,
        keys=keys,
        attention=captured['attention'],
        full_ids=masks_to_ids(full, 7),
        efficient_ids=masks_to_ids(efficient, 7),
        loss_seed=LOSS_SEED,
        anchors=loss_scope['sample'],
        loss_semantic=loss_scope['slot_loss'],
        loss_motion=loss_scope['motion_loss'],
        cluster_attention=attention,
        cluster_ids=first_appearance(constructed.argmax(0)))
    state = {k: v.half() for k, v in model.state_dict().items()}
    torch.save(dict(iteration=0, model_state_dict=state,
                    optimizer_state_dict={}, loss=torch.tensor(0.0)),
               HERE / 'official_tiny.pth')
    torch.save(golden, HERE / 'golden.pth')
    print('clusters: full', int(golden['full_ids'].max()) + 1, 'efficient',
          int(golden['efficient_ids'].max()) + 1, 'constructed',
          int(golden['cluster_ids'].max()) + 1, 'losses',
          float(golden['loss_semantic']), float(golden['loss_motion']))


if __name__ == '__main__':
    main()
