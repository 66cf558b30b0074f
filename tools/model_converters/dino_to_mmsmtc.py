"""Convert a DINO or DINOv2 checkpoint into an mmsmtc backbone state dict.

Reads a released backbone (``dino_deitsmall16_pretrain.pth``,
``dino_resnet50_pretrain.pth``, DINOv2's ``dinov2_vitb14_pretrain.pth``,
...), a timm state dict of the same models, or a full DINO training
checkpoint (``{'teacher': ..., 'student': ...}`` with ``module.``/``backbone.``
prefixes and a ``head``), maps every tensor through the backbone's key map,
checks every shape against the chosen ``--arch`` and saves a plain dict of
tensors that loads with ``torch.load(..., weights_only=True)`` and
``init_cfg=dict(type='Pretrained', checkpoint=DST)``.

Example::

    python tools/model_converters/dino_to_mmsmtc.py \
        dino_deitsmall16_pretrain.pth checkpoints/dino_vit-s16.pth \
        --arch vit-s16
    python tools/model_converters/dino_to_mmsmtc.py \
        dinov2_vitb14_pretrain.pth checkpoints/dinov2_vit-b14.pth \
        --arch dinov2-vit-b14
"""
import argparse
import sys
from pathlib import Path

import torch

from mmsmtc.models.backbones import (ResNet, VisionTransformer, map_state_dict,
                                     select_state_dict)
from mmsmtc.utils.checkpoint import CheckpointError, read_checkpoint

#: --arch -> the backbone whose complete state dict is produced (the ViT
#: keeps its final norm so either ``final_norm`` setting can load it).
ARCH_BACKBONES = {
    'vit-s16': lambda: VisionTransformer('vit-s16', final_norm=True),
    'vit-s8': lambda: VisionTransformer('vit-s8', final_norm=True),
    'vit-b16': lambda: VisionTransformer('vit-b16', final_norm=True),
    'vit-b8': lambda: VisionTransformer('vit-b8', final_norm=True),
    'dinov2-vit-s14': lambda: VisionTransformer(
        'dinov2-vit-s14', final_norm=True),
    'dinov2-vit-b14': lambda: VisionTransformer(
        'dinov2-vit-b14', final_norm=True),
    'r50': lambda: ResNet(depth=50, out_indices=(0, 1, 2, 3)),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'src', type=Path, help='official DINO / DINOv2 (or timm) checkpoint')
    parser.add_argument('dst', type=Path, help='converted state dict')
    parser.add_argument(
        '--arch', choices=sorted(ARCH_BACKBONES), default='vit-s16')
    parser.add_argument(
        '--which',
        choices=('teacher', 'student'),
        default='teacher',
        help='network of a full training checkpoint (DINO releases the '
        'teacher)')
    parser.add_argument(
        '--allow-pickle',
        action='store_true',
        help='unpickle arbitrary Python objects in SRC; only for a file '
        'you trust')
    return parser.parse_args(argv)


def convert(src: Path, dst: Path, arch: str, which: str,
            allow_pickle: bool = False):
    """Write the converted state dict to ``dst``; returns the LoadReport.

    Raises:
        CheckpointError: SRC does not hold a complete ``arch`` backbone.
    """
    backbone = ARCH_BACKBONES[arch]()
    state = select_state_dict(
        read_checkpoint(src, allow_pickle=allow_pickle), which, str(src))
    converted, report = map_state_dict(state, backbone.checkpoint_key_map(),
                                       backbone.state_dict(), str(src))
    if report.missing:
        raise CheckpointError(
            f'{src} lacks {len(report.missing)} tensors of a {arch} backbone '
            f'(e.g. {report.missing[:3]}); is --arch right?')
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save(converted, dst)
    return report


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        report = convert(args.src, args.dst, args.arch, args.which,
                         args.allow_pickle)
    except (CheckpointError, FileNotFoundError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'{args.src} -> {args.dst} ({args.arch}, {args.which})')
    print(report.summary())
    return 0


if __name__ == '__main__':
    sys.exit(main())
