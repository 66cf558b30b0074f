"""Convert an official VideoSAUR / DINOSAUR checkpoint into an mmsmtc one.

The official code (martius-lab/videosaur) saves PyTorch-Lightning
checkpoints whose ``state_dict`` holds the whole ``ObjectCentricModel``,
frozen ViT included. Key prefixes (video models wrap their parts in
``MapOverTime`` / ``ScanOverTime``, hence ``.module.``)::

    official (video)                          mmsmtc VideoSAUR
    initializer.{mean,log_std}                slot_initializer.*
    encoder.module.backbone.model.<timm ViT>  backbone.<same names>
    encoder.module.output_transform.layers.*  neck.layers.*
    processor.module.corrector.*              processor.corrector.*
    processor.module.predictor.*              processor.predictor.*
    decoder.module.*                          decoder.*

The image model (DINOSAUR, COCO) has the same keys without ``.module.``.
The ViT's final ``norm`` / ``head`` (present or absent) are dropped: the
model uses the last block's output before the norm. ``num_train_iters`` is
0, so ``load_from`` starts a fresh schedule.

The variant (``--variant``) is inferred from the tensor shapes when not
given; a given variant that the checkpoint does not match is refused with
the differing properties named. ``--config`` builds that config's model and
checks that the result loads strictly. MOVi-C and MOVi-E checkpoints have
the same shapes (the slot count is not a weight), so both infer as
``movi``.

Lightning pickles more than tensors: the file is read weights-only with
mmsmtc's allow-list, and if that refuses it, ``--allow-pickle`` unpickles
it (only for files you trust; it may need pytorch-lightning installed).

Example::

    python tools/model_converters/videosaur_official_to_mmsmtc.py \\
        videosaur-movi-c.ckpt checkpoints/videosaur_vit-b8_movi-c.pth
"""
import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch

from mmsmtc.utils.checkpoint import CheckpointError, read_entry_state_dict

#: Official prefix -> mmsmtc prefix, video models.
VIDEO_PREFIXES = {
    'initializer.': 'slot_initializer.',
    'encoder.module.backbone.model.': 'backbone.',
    'encoder.module.output_transform.': 'neck.',
    'processor.module.corrector.': 'processor.corrector.',
    'processor.module.predictor.': 'processor.predictor.',
    'decoder.module.': 'decoder.',
}
#: Official prefix -> mmsmtc prefix, the image model.
IMAGE_PREFIXES = {
    'initializer.': 'slot_initializer.',
    'encoder.backbone.model.': 'backbone.',
    'encoder.output_transform.': 'neck.',
    'processor.corrector.': 'processor.corrector.',
    'decoder.': 'decoder.',
}
#: ViT entries the model does not use (final norm, classifier).
IGNORED_VIT_ENTRIES = re.compile(r'^(norm|fc_norm|head)\.')

#: The released models' architecture properties (official configs).
VARIANTS = {
    'movi': dict(model='video', slot_dim=128, num_patches=784,
                 decoder_out=784, patch_size=8, allocator_blocks=2,
                 renderer_layers=4, layer_scale=False),
    'ytvis': dict(model='video', slot_dim=64, num_patches=196,
                  decoder_out=964, patch_size=16, allocator_blocks=3,
                  renderer_layers=3, layer_scale=False),
    'ytvis-dinov2': dict(model='video', slot_dim=64, num_patches=1369,
                         decoder_out=2137, patch_size=14,
                         allocator_blocks=3, renderer_layers=3,
                         layer_scale=True),
    'coco': dict(model='image', slot_dim=256, num_patches=256,
                 decoder_out=769, patch_size=14, slot_mlp=True,
                 layer_scale=True),
}
#: Names accepted by --variant (MOVi-C and -E share their shapes).
VARIANT_ALIASES = {'movi-c': 'movi', 'movi-e': 'movi'}


class ConversionError(ValueError):
    """An official checkpoint that cannot be converted."""


def _count(state: Dict[str, torch.Tensor], pattern: str) -> int:
    regex = re.compile(pattern)
    return len({m.group(1) for key in state for m in [regex.match(key)] if m})


def architecture(state: Dict[str, torch.Tensor]) -> Dict[str, object]:
    """The properties of :data:`VARIANTS` read from an official state dict.

    Raises:
        ConversionError: when it is not a VideoSAUR / DINOSAUR state dict.
    """
    video = any(key.startswith('processor.module.') for key in state)
    image = any(key.startswith('processor.corrector.') for key in state)
    if video == image or 'initializer.mean' not in state:
        raise ConversionError(
            'not an official VideoSAUR / DINOSAUR state dict: expected '
            'initializer.mean and processor.module.* (video) or '
            'processor.corrector.* (image) keys, got e.g. '
            f'{sorted(state)[:5]}')
    vit = 'encoder.module.backbone.model.' if video else (
        'encoder.backbone.model.')
    decoder = 'decoder.module.' if video else 'decoder.'
    try:
        props = dict(
            model='video' if video else 'image',
            slot_dim=state['initializer.mean'].shape[-1],
            num_patches=state[decoder + 'pos_emb'].shape[-2],
            patch_size=state[vit + 'patch_embed.proj.weight'].shape[-1],
            layer_scale=any('.ls1.' in key for key in state))
        if video:
            out_weight = state[decoder + 'output_transform.weight']
            props.update(
                decoder_out=out_weight.shape[0],
                allocator_blocks=_count(
                    state, re.escape(decoder) + r'allocator\.blocks\.(\d+)\.'),
                renderer_layers=_count(
                    state, re.escape(decoder) + r'renderer\.layers\.(\d+)\.'))
        else:
            last = max(int(m.group(1)) for key in state for m in [
                re.match(r'decoder\.mlp\.layers\.(\d+)\.weight$', key)] if m)
            out_weight = state[f'decoder.mlp.layers.{last}.weight']
            props.update(
                decoder_out=out_weight.shape[0],
                slot_mlp=any(key.startswith('processor.corrector.mlp.')
                             for key in state))
    except (KeyError, ValueError) as error:
        raise ConversionError(
            f'the official state dict lacks an expected entry: {error}'
        ) from error
    return props


def differences(props: Dict[str, object], variant: str) -> List[str]:
    """``'<property>: <checkpoint> in the checkpoint, <expected> for
    <variant>'`` for each property that differs."""
    expected = VARIANTS[variant]
    return [
        f'{name}: {props.get(name)} in the checkpoint, {value} for {variant}'
        for name, value in expected.items() if props.get(name) != value
    ]


def infer_variant(props: Dict[str, object]) -> Optional[str]:
    """The released variant with these properties, or None."""
    for name in VARIANTS:
        if not differences(props, name):
            return name
    return None


def convert_state_dict(
    official: Dict[str, torch.Tensor],
    variant: Optional[str] = None
) -> Tuple[Dict[str, torch.Tensor], Dict[str, object]]:
    """Map an official ``state_dict`` to an mmsmtc VideoSAUR / DINOSAUR one.

    Args:
        official: The Lightning module's ``state_dict``.
        variant: A key of :data:`VARIANTS` (or ``movi-c`` / ``movi-e``) the
            checkpoint must match; None infers it (a non-released
            architecture converts as ``custom``).

    Returns:
        tuple: the converted state dict and a report (``variant``,
        ``architecture``, ``ignored`` keys).

    Raises:
        ConversionError: not an official state dict, keys that map nowhere,
            or a mismatch with ``variant`` (naming what differs).
    """
    props = architecture(official)
    if variant is not None:
        name = VARIANT_ALIASES.get(variant, variant)
        if name not in VARIANTS:
            raise ConversionError(
                f'unknown variant {variant!r}; choose one of '
                f'{sorted(set(VARIANTS) | set(VARIANT_ALIASES))}')
        mismatch = differences(props, name)
        if mismatch:
            found = infer_variant(props) or 'a non-released architecture'
            raise ConversionError(
                f'the checkpoint is not a {variant} model ({found}): '
                + '; '.join(mismatch))
    else:
        variant = infer_variant(props) or 'custom'
    prefixes = VIDEO_PREFIXES if props['model'] == 'video' else (
        IMAGE_PREFIXES)
    converted, ignored, unknown = {}, [], []
    for key, value in official.items():
        source = next((p for p in prefixes if key.startswith(p)), None)
        if source is None:
            unknown.append(key)
            continue
        rest = key[len(source):]
        if (prefixes[source] == 'backbone.'
                and IGNORED_VIT_ENTRIES.match(rest)):
            ignored.append(key)
            continue
        converted[prefixes[source] + rest] = value
    if unknown:
        raise ConversionError(
            f'{len(unknown)} entries map to no mmsmtc module: '
            f'{", ".join(sorted(unknown)[:5])}')
    converted['num_train_iters'] = torch.zeros((), dtype=torch.long)
    return converted, dict(
        variant=variant, architecture=props, ignored=sorted(ignored))


def load_official(src: Path,
                  allow_pickle: bool = False) -> Dict[str, torch.Tensor]:
    """The ``state_dict`` of an official Lightning checkpoint, on the CPU
    (read weights-only unless ``allow_pickle``)."""
    try:
        state = read_entry_state_dict(src, 'state_dict', allow_pickle)
    except CheckpointError as error:
        raise ConversionError(str(error)) from error
    if not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise ConversionError(
            f'{src}: expected a Lightning checkpoint with a "state_dict" of '
            'tensors')
    return state


def check_against_config(converted: Dict[str, torch.Tensor], config: Path,
                         source: str) -> None:
    """Build ``config``'s model and load ``converted`` into it strictly."""
    from mmengine.config import Config

    from mmsmtc.models.utils import load_strict
    from mmsmtc.registry import MODELS
    from mmsmtc.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(str(config)).model)
    try:
        load_strict(model, converted, source, f'model of {config}')
    except CheckpointError as error:
        raise ConversionError(str(error)) from error
    extra = sorted(set(converted) - set(model.state_dict()))
    if extra:
        raise ConversionError(
            f'{source}: entries the model of {config} does not have: '
            f'{", ".join(extra[:5])}')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', type=Path, help='official .ckpt file')
    parser.add_argument('dst', type=Path, help='converted mmsmtc checkpoint')
    parser.add_argument(
        '--variant',
        choices=sorted(set(VARIANTS) | set(VARIANT_ALIASES)),
        help='the released model SRC must be (default: inferred)')
    parser.add_argument(
        '--config',
        type=Path,
        help='an mmsmtc config whose model must load the result strictly')
    parser.add_argument(
        '--allow-pickle',
        action='store_true',
        help='unpickle arbitrary Python objects in SRC (Lightning '
        'checkpoints may need it); only for a file you trust')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        official = load_official(args.src, args.allow_pickle)
        converted, report = convert_state_dict(official, args.variant)
        if args.config is not None:
            check_against_config(converted, args.config, str(args.src))
    except ConversionError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'variant: {report["variant"]} ({report["architecture"]})')
    if report['ignored']:
        print(f'ignored keys ({len(report["ignored"])}): '
              f'{", ".join(report["ignored"])}')
    args.dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=converted), args.dst)
    print(f'saved {len(converted)} tensors to {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
