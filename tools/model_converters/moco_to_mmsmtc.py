"""Convert a MoCo checkpoint into a torchvision-layout ResNet state dict.

Spa-then-Temp's step 2 starts its student and its frozen teacher from the
step-1 (spatial) network, a ResNet read in torchvision names
(``conv1.weight``, ``bn1.*``, ``layerX.Y.convN.weight``, ``layerX.Y.bnN.*``,
``layerX.0.downsample.0/1.*``), as mmsmtc's ``ResNet`` loads through
``init_cfg=dict(type='Pretrained', checkpoint=DST)`` (and the official
``ResNet._load_torchvision_checkpoint``, which strips no prefix). Accepted
sources, detected from the keys:

- official MoCo (``facebookresearch/moco`` ``main_moco.py``):
  ``{'state_dict': {'module.encoder_q.*', 'module.encoder_k.*',
  'module.queue', 'module.queue_ptr'}, ...}``: the query encoder is kept;
- mmsmtc's ``MoCo`` (``tools/train.py`` with ``configs/moco/``):
  ``{'state_dict': {'backbone.*', 'neck.*', 'teacher.*', 'queue', ...}}``:
  the query encoder ``backbone.*`` is kept;
- a torchvision-format ResNet (``conv1.weight``, ...; an outer
  ``state_dict`` is unwrapped): kept as it is.

The classifier / projection head (``fc.*``, ``neck.*``), the key encoder and
the queue are dropped; every remaining key must be a ResNet key and every
ResNet tensor must be present with its shape (the depth, 18/34/50/101, is
the one whose keys match), else the conversion fails naming the keys.

Example::

    python tools/model_converters/moco_to_mmsmtc.py \\
        moco_v2_800ep_pretrain.pth.tar checkpoints/moco_r50.pth
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, Tuple

import torch

from mmsmtc.models.backbones import ResNet
from mmsmtc.utils.checkpoint import CheckpointError, read_checkpoint

#: Source layout -> the prefix of its query encoder.
ENCODER_PREFIXES = {
    'official MoCo': 'module.encoder_q.',
    'MoCo (no DDP prefix)': 'encoder_q.',
    'mmsmtc MoCo': 'backbone.',
}
#: Keys of the query encoder that are not the ResNet: the head.
HEAD_PREFIXES = ('fc.', )
DEPTHS = (18, 34, 50, 101)


class ConversionError(ValueError):
    """A checkpoint that is not a MoCo / torchvision ResNet."""


def select_encoder(state: Dict[str, torch.Tensor], source: str
                   ) -> Tuple[Dict[str, torch.Tensor], str]:
    """The query encoder's tensors (prefix stripped) and the layout name."""
    for layout, prefix in ENCODER_PREFIXES.items():
        encoder = {key[len(prefix):]: value for key, value in state.items()
                   if key.startswith(prefix)}
        if encoder:
            return encoder, layout
    if 'conv1.weight' in state:
        return dict(state), 'torchvision'
    raise ConversionError(
        f'{source}: neither a MoCo checkpoint (keys '
        f'{" / ".join(p + "*" for p in ENCODER_PREFIXES.values())}) nor a '
        f'torchvision ResNet (conv1.weight); first keys: {list(state)[:5]}')


def to_resnet(encoder: Dict[str, torch.Tensor], source: str
              ) -> Tuple[Dict[str, torch.Tensor], int]:
    """The ResNet tensors in torchvision names, and the depth.

    Raises:
        ConversionError: Keys that fit no ResNet depth, or misshapen ones.
    """
    weights = {key: value for key, value in encoder.items()
               if not key.startswith(HEAD_PREFIXES)}
    for depth in DEPTHS:
        reference = ResNet(depth=depth, out_indices=(0, 1, 2, 3)).state_dict()
        if set(reference) != set(weights):
            continue
        wrong = [key for key, value in weights.items()
                 if tuple(value.shape) != tuple(reference[key].shape)]
        if wrong:
            raise ConversionError(
                f'{source}: ResNet-{depth} tensors of the wrong shape: '
                + ', '.join(f'{key} {tuple(weights[key].shape)} (expected '
                            f'{tuple(reference[key].shape)})'
                            for key in wrong[:5]))
        return weights, depth
    closest = min(DEPTHS, key=lambda d: len(
        set(ResNet(depth=d, out_indices=(0, 1, 2, 3)).state_dict()) ^
        set(weights)))
    reference = set(ResNet(depth=closest,
                           out_indices=(0, 1, 2, 3)).state_dict())
    raise ConversionError(
        f'{source}: the encoder is no ResNet-18/34/50/101; against '
        f'ResNet-{closest}: missing {sorted(reference - set(weights))[:5]}, '
        f'unexpected {sorted(set(weights) - reference)[:5]}')


def convert(checkpoint: dict, source: str
            ) -> Tuple[Dict[str, torch.Tensor], int, str]:
    """A loaded checkpoint -> (state dict, depth, source layout)."""
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        raise ConversionError(f'{source}: "state_dict" is a '
                              f'{type(state).__name__}, expected a dict')
    state = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    encoder, layout = select_encoder(state, source)
    weights, depth = to_resnet(encoder, source)
    return weights, depth, layout


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', type=Path, help='MoCo or torchvision '
                        'checkpoint')
    parser.add_argument('dst', type=Path, help='ResNet state dict to write')
    parser.add_argument(
        '--allow-pickle', action='store_true',
        help='unpickle arbitrary Python objects in SRC (official MoCo saves '
        'its arguments with them, mmengine its meta data); only for a file '
        'you trust')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        checkpoint = read_checkpoint(args.src,
                                     allow_pickle=args.allow_pickle or None)
        weights, depth, layout = convert(checkpoint, str(args.src))
    except (ConversionError, CheckpointError, FileNotFoundError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    args.dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save(weights, args.dst)
    print(f'{args.src} ({layout}) -> {args.dst}: ResNet-{depth}, '
          f'{len(weights)} tensors')
    return 0


if __name__ == '__main__':
    sys.exit(main())
