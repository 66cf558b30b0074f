"""Convert an official SMTC checkpoint into an mmsmtc ``SMTC`` state dict.

The official training script saves ``{'iteration', 'model_state_dict',
'optimizer_state_dict', 'loss'}`` where ``model_state_dict`` is the state
of ``SlotAttentionAutoEncoder`` (``encoder.*`` DINO ViT, ``transport_proj``
Conv1d, ``slot_attention.*``, ``mlp_slot.*``). Every key goes through the
explicit map below; the student weights are also written as the EMA
teacher's (the official checkpoint does not save its teacher), and
``num_train_iters`` is 0, so ``load_from`` starts a fresh schedule.

Example::

    python tools/model_converters/smtc_official_to_mmsmtc.py \
        smtc_official.pth checkpoints/smtc_vit-s16_ytvos.pth
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
#: Official key -> mmsmtc key (outside the encoder).
KEY_MAP = {
    'transport_proj.weight': 'neck.transport_proj.weight',
    'transport_proj.bias': 'neck.transport_proj.bias',
    'slot_attention.slots_mu': 'head.slots_mu',
    'slot_attention.slots_sigma': 'head.slots_log_std',
    'mlp_slot.0.weight': 'head.instance_projector.0.weight',
    'mlp_slot.0.bias': 'head.instance_projector.0.bias',
    'mlp_slot.2.weight': 'head.instance_projector.2.weight',
    'mlp_slot.2.bias': 'head.instance_projector.2.bias',
}
for _layer in ('norm_input', 'norm_slots', 'norm_pre_ff', 'project_q',
               'project_k', 'project_v', 'mlp.0', 'mlp.2'):
    for _kind in ('weight', 'bias'):
        KEY_MAP[f'slot_attention.{_layer}.{_kind}'] = f'head.{_layer}.{_kind}'
#: Official DINO encoder keys kept, renamed ``encoder.`` -> ``backbone.``.
ENCODER_KEY = re.compile(r'^encoder\.(cls_token|pos_embed|patch_embed\.proj'
                         r'\.(weight|bias)|blocks\.\d+\.[\w.]+)$')
#: Official keys deliberately unused: the encoder's final norm (SMTC uses
#: the last block's keys, before it).
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


def convert_state_dict(
    official: Dict[str, torch.Tensor]
) -> Tuple[Dict[str, torch.Tensor], Dict[str, List[str]]]:
    """Map an official ``model_state_dict`` to an mmsmtc ``SMTC`` one.

    Returns:
        tuple: the converted state dict (student, ``teacher.`` copy and
        ``num_train_iters``) and a report with ``missing`` (official
        non-encoder keys absent from the input), ``unexpected`` (input keys
        the map does not know) and ``ignored`` keys.

    Raises:
        ConversionError: when no key maps, or a ``transport_proj`` weight
            is not the official ``(C, G, 1)`` Conv1d weight.
    """
    official = _strip_wrappers(official)
    student, unexpected, ignored = {}, [], []
    for key, value in official.items():
        if key in KEY_MAP:
            student[KEY_MAP[key]] = value
        elif ENCODER_KEY.match(key):
            student['backbone.' + key[len('encoder.'):]] = value
        elif key.startswith(IGNORED_PREFIXES):
            ignored.append(key)
        else:
            unexpected.append(key)
    if not student:
        raise ConversionError(
            'no key of the checkpoint maps to mmsmtc SMTC: expected the '
            'official SlotAttentionAutoEncoder keys (encoder.*, '
            f'transport_proj.*, slot_attention.*, mlp_slot.*), got e.g. '
            f'{sorted(official)[:5]}')
    proj = student.get('neck.transport_proj.weight')
    if proj is not None:
        if proj.dim() != 3 or proj.shape[-1] != 1:
            raise ConversionError(
                'transport_proj.weight must be the (C, G, 1) kernel of the '
                f'official Conv1d, got shape {tuple(proj.shape)}')
        student['neck.transport_proj.weight'] = proj[..., 0]
    converted = dict(student)
    converted.update({
        f'teacher.{key}': value.clone()
        for key, value in student.items()
    })
    converted['num_train_iters'] = torch.zeros((), dtype=torch.long)
    report = dict(missing=sorted(set(KEY_MAP) - set(official)),
                  unexpected=sorted(unexpected),
                  ignored=sorted(ignored))
    return converted, report


def load_official(src: Path, allow_pickle: bool = False):
    """The ``model_state_dict`` of an official checkpoint file (read
    weights-only unless ``allow_pickle``)."""
    try:
        return read_entry_state_dict(src, 'model_state_dict', allow_pickle)
    except CheckpointError as error:
        raise ConversionError(str(error)) from error


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', type=Path, help='official SMTC checkpoint')
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
        converted, report = convert_state_dict(official)
    except ConversionError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    for kind, keys in report.items():
        if keys:
            print(f'{kind} keys ({len(keys)}): {", ".join(keys)}')
    args.dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=converted), args.dst)
    print(f'saved {len(converted)} tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
