"""Convert an official Betrayed-by-Attention checkpoint into an mmsmtc
``BetrayedByAttention`` state dict.

The official training script (``shvdiwnkozbw/SSL-UVOS``,
``src/train_RGB_cluster.py``) saves ``{'iteration', 'model_state_dict',
'optimizer_state_dict', 'loss'}``; ``model_state_dict`` is the state of
``AttEncoder``: ``encoder.*`` (the DINO ViT, 12 blocks for ViT-S/8) and
``temporal_transformer.0.*`` (the spatio-temporal block: 11 tensors, qkv
without bias). The released ``checkpoint_dino-s-8.pth`` holds 161 tensors.
The tensors were saved on a GPU: the file is read onto the CPU,
weights-only. Mapping (every key accounted for, anything else an error):

- ``encoder.{cls_token,pos_embed,patch_embed.proj.*,blocks.*}`` ->
  ``backbone.*`` (DINO names, as ``VisionTransformer``);
- ``encoder.norm.*`` -> ignored (BbA uses the last block's keys and cls
  output token, before the final norm);
- ``temporal_transformer.0.*`` -> ``head.*`` (``SpatioTemporalBlock``).

The official evaluation loads this strictly; its training, however, loads
DINO weights with ``strict=False``, so the README's *full* DINO checkpoint
(``student``/``teacher`` entries) silently leaves the backbone random. Such a
file, or a plain DINO backbone, is refused here with a message saying what
it is.

Example::

    python tools/model_converters/bba_official_to_mmsmtc.py \
        checkpoint_dino-s-8.pth checkpoints/bba_vit-s8_ytvos.pth
"""
import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import torch

from mmsmtc.utils.checkpoint import CheckpointError, read_entry_state_dict

#: Prefixes of a DDP-wrapped state dict.
WRAPPER_PREFIXES = ('module.', )
#: The spatio-temporal block's tensors (official names = mmsmtc names).
BLOCK_KEYS = ('norm1.weight', 'norm1.bias', 'attn.qkv.weight',
              'attn.proj.weight', 'attn.proj.bias', 'norm2.weight',
              'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias',
              'mlp.fc2.weight', 'mlp.fc2.bias')
#: Official DINO encoder keys kept, renamed ``encoder.`` -> ``backbone.``.
ENCODER_KEY = re.compile(r'^encoder\.(cls_token|pos_embed|patch_embed\.proj'
                         r'\.(weight|bias)|blocks\.\d+\.[\w.]+)$')
#: Encoder keys that must be present.
REQUIRED_ENCODER = ('encoder.cls_token', 'encoder.pos_embed',
                    'encoder.patch_embed.proj.weight',
                    'encoder.patch_embed.proj.bias')
#: Official keys deliberately unused: the encoder's final norm.
IGNORED_PREFIXES = ('encoder.norm.', )


class ConversionError(ValueError):
    """An official checkpoint that cannot be converted."""


def _strip_wrappers(state_dict: Dict[str, torch.Tensor]):
    stripped = {}
    for key, value in state_dict.items():
        for prefix in WRAPPER_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
        stripped[key] = value
    return stripped


def _describe_foreign(keys: List[str]) -> str:
    """What a checkpoint without BbA keys probably is."""
    if {'student', 'teacher'} & set(keys):
        return ("a full DINO training checkpoint ('student'/'teacher'; the "
                "official BbA training would silently keep a random backbone"
                ' with it): convert its backbone with '
                'tools/model_converters/dino_to_mmsmtc.py for training, or '
                'give the BbA checkpoint (checkpoint_dino-s-8.pth)')
    if 'cls_token' in keys or any(key.startswith('blocks.') for key in keys):
        return ('a DINO backbone checkpoint, not a BbA one: convert it with '
                'tools/model_converters/dino_to_mmsmtc.py (for training)')
    return f'an unknown checkpoint (keys e.g. {sorted(keys)[:5]})'


def convert_state_dict(
    official: Dict[str, torch.Tensor]
) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Map an official ``AttEncoder`` state dict to mmsmtc's.

    Returns:
        tuple: the converted state dict (``backbone.*``, ``head.*``,
        ``num_train_iters`` = 0) and the ignored official keys.

    Raises:
        ConversionError: for another kind of checkpoint, unknown keys,
            missing encoder or block keys, or a non-tensor value.
    """
    official = _strip_wrappers(dict(official))
    keys = list(official)
    if not any(key.startswith(('encoder.', 'temporal_transformer.'))
               for key in keys):
        raise ConversionError(f'this is {_describe_foreign(keys)}')
    converted, ignored, unexpected = {}, [], []
    for key, value in official.items():
        if not isinstance(value, torch.Tensor):
            raise ConversionError(f'{key} is a {type(value).__name__}, not a '
                                  'tensor')
        block = key[len('temporal_transformer.0.'):]
        if key.startswith('temporal_transformer.0.') and block in BLOCK_KEYS:
            converted['head.' + block] = value
        elif ENCODER_KEY.match(key):
            converted['backbone.' + key[len('encoder.'):]] = value
        elif key.startswith(IGNORED_PREFIXES):
            ignored.append(key)
        else:
            unexpected.append(key)
    missing = [f'temporal_transformer.0.{name}' for name in BLOCK_KEYS
               if f'head.{name}' not in converted]
    missing += [key for key in REQUIRED_ENCODER if key not in official]
    if unexpected or missing:
        raise ConversionError(
            'not the official AttEncoder layout (encoder.* DINO ViT + '
            'temporal_transformer.0.* with 11 tensors):'
            + (f' unexpected keys {sorted(unexpected)}' if unexpected else '')
            + (f' missing keys {missing}' if missing else ''))
    converted['num_train_iters'] = torch.zeros((), dtype=torch.long)
    return converted, sorted(ignored)


def load_official(src: Path, allow_pickle: bool = False):
    """The ``model_state_dict`` of an official checkpoint file, read onto
    the CPU (weights-only unless ``allow_pickle``)."""
    try:
        return read_entry_state_dict(src, 'model_state_dict', allow_pickle)
    except CheckpointError as error:
        raise ConversionError(str(error)) from error


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', type=Path, help='official BbA checkpoint')
    parser.add_argument('dst', type=Path, help='converted mmsmtc checkpoint')
    parser.add_argument(
        '--allow-pickle',
        action='store_true',
        help='unpickle arbitrary Python objects in SRC; only for a file '
        'you trust')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        official = load_official(args.src, args.allow_pickle)
        converted, ignored = convert_state_dict(official)
    except ConversionError as error:
        print(f'error: {args.src}: {error}', file=sys.stderr)
        return 1
    if ignored:
        print(f'ignored keys ({len(ignored)}): {", ".join(ignored)}')
    args.dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=converted), args.dst)
    print(f'saved {len(converted)} tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
