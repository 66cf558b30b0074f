"""Extract one backbone of an mmsmtc checkpoint into a backbone weight file.

An mmsmtc training checkpoint (``tools/train.py``: ``{'state_dict':
{'backbone.*', 'neck.*', 'teacher.backbone.*', ...}, ...}``) holds the
whole model. Another model starts from one of its encoders through
``backbone.init_cfg=dict(type='Pretrained', checkpoint=DST, strict=True)``:
this tool writes that encoder alone, a plain dict of tensors under the
backbone's own names (``cls_token``, ``blocks.0.attn.qkv.weight``, ...), as
``tools/model_converters/dino_to_mmsmtc.py`` does for DINO. ``--part``
names the module to take (default ``backbone``, the student; SMTC's EMA
teacher keeps its encoder frozen at its start, so its ``teacher.backbone``
is the untrained one). ``--config`` checks the result against the backbone
a config builds (``model.backbone``): every tensor present with its shape
and nothing else, the strict load the consumer does.

Example (the tiny SMTC's encoder, checked against a model built on the
same tiny ViT)::

    python tools/model_converters/extract_backbone.py \\
        work_dirs/smtc_tiny/iter_1500.pth checkpoints/smtc_vit-tiny.pth \\
        --config configs/bba/bba_vit-tiny_1xb4-1k_synthetic-64x112.py
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, Optional

import torch

from mmsmtc.utils.checkpoint import (CheckpointError, read_state_dict,
                                     select_prefix)


def backbone_parts(state: Dict[str, torch.Tensor]) -> list:
    """The modules of ``state`` whose name ends in ``backbone`` (e.g.
    ``backbone``, ``teacher.backbone``), sorted."""
    parts = set()
    for key in state:
        names = key.split('.')
        for end, name in enumerate(names[:-1]):
            if name.endswith('backbone'):
                parts.add('.'.join(names[:end + 1]))
    return sorted(parts)


def extract(state: Dict[str, torch.Tensor], part: str,
            source: str) -> Dict[str, torch.Tensor]:
    """The tensors of module ``part`` of a model state dict, its prefix
    removed.

    Raises:
        CheckpointError: ``source`` has no module ``part`` (names the
            backbones it has).
    """
    weights = select_prefix(state, part + '.')
    if not weights:
        raise CheckpointError(
            f'{source} has no module {part!r}; its backbones: '
            f'{backbone_parts(state) or "none"} (first keys: '
            f'{list(state)[:5]})')
    return weights


def check_fits(weights: Dict[str, torch.Tensor], config: Path,
               source: str) -> None:
    """Check that ``weights`` fill the backbone of ``config`` exactly.

    Raises:
        CheckpointError: Missing, unexpected or misshapen tensors, named.
    """
    from mmengine.config import Config

    from mmsmtc.registry import MODELS
    from mmsmtc.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    backbone_cfg = Config.fromfile(str(config)).model.backbone
    backbone_cfg.pop('init_cfg', None)
    reference = MODELS.build(backbone_cfg).state_dict()
    missing = sorted(set(reference) - set(weights))
    unexpected = sorted(set(weights) - set(reference))
    wrong = [
        f'{key} {tuple(weights[key].shape)} (expected '
        f'{tuple(reference[key].shape)})' for key in sorted(reference)
        if key in weights and weights[key].shape != reference[key].shape
    ]
    if missing or unexpected or wrong:
        raise CheckpointError(
            f'{source} does not fit the backbone of {config}: missing '
            f'{missing[:5]}, unexpected {unexpected[:5]}, wrong shapes '
            f'{wrong[:5]}')


def convert(src: Path, dst: Path, part: str = 'backbone',
            config: Optional[Path] = None) -> Dict[str, torch.Tensor]:
    """Write the backbone ``part`` of ``src`` to ``dst``; return it.

    Raises:
        CheckpointError: See :func:`extract` and :func:`check_fits`, or
            ``src`` is unreadable.
        FileNotFoundError: ``src`` or ``config`` does not exist.
    """
    weights = extract(read_state_dict(src), part, str(src))
    if config is not None:
        if not Path(config).is_file():
            raise FileNotFoundError(f'config {config} does not exist')
        check_fits(weights, Path(config), str(src))
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save(weights, dst)
    return weights


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', type=Path, help='mmsmtc checkpoint')
    parser.add_argument('dst', type=Path, help='backbone state dict to write')
    parser.add_argument(
        '--part', default='backbone',
        help='module to extract, e.g. backbone (the student) or '
        'teacher.backbone')
    parser.add_argument(
        '--config', type=Path,
        help='check that the result fills this config\'s model.backbone '
        'exactly')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        weights = convert(args.src, args.dst, args.part, args.config)
    except (CheckpointError, FileNotFoundError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'{args.src} ({args.part}) -> {args.dst}: {len(weights)} tensors'
          + (f', fits {args.config}' if args.config else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
