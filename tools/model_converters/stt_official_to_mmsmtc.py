"""Convert a released Spa-then-Temp checkpoint into an mmsmtc ResNet.

The official training (``qianduoduolr/Spa-then-Temp``, an mmcv fork of VFS)
saves an mmcv checkpoint ``{'meta', 'state_dict', 'optimizer'?}`` whose
``state_dict`` holds the student ``backbone.*`` (mmaction-style ResNet built
from ``ConvModule`` s: ``conv1.conv.weight``, ``conv1.bn.*``,
``layerX.Y.convN.conv.weight``, ``layerX.Y.convN.bn.*``,
``layerX.0.downsample.conv/bn.*``) and, in a training checkpoint, the frozen
teacher ``backbone_t.*``. The official ``tools/test.py`` loads it with
``strict=False``, so a file with other key names silently evaluates a
randomly initialised network; this converter is strict instead: every
student key must map, every tensor of the ResNet must be filled with the
right shape, and anything besides ``backbone.*`` and the teacher
``backbone_t.*`` (dropped) is an error naming the keys.

The output is a plain state dict in torchvision names (``conv1.weight``,
``bn1.*``, ``layerX.Y.bnN.*``, ``layerX.Y.downsample.0/1.*``) that mmsmtc's
``ResNet`` loads through ``init_cfg=dict(type='Pretrained',
checkpoint=DST)`` for any stride layout (``configs/stt_test/``). The depth
(18, 34, 50, 101) is read from the keys.

Example::

    python tools/model_converters/stt_official_to_mmsmtc.py \\
        stt_r18.pth checkpoints/stt_r18_ytvos.pth
"""
import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import torch

from mmsmtc.models.backbones import ResNet, map_state_dict
from mmsmtc.utils.checkpoint import CheckpointError, read_entry_state_dict

#: Prefix of the student in the official model and the one DDP may add.
STUDENT_PREFIX = 'backbone.'
DDP_PREFIX = 'module.'
#: The frozen teacher of a training checkpoint: expected, not converted.
TEACHER_PREFIX = 'backbone_t.'
#: (official pattern, torchvision replacement), applied to stripped keys.
KEY_RULES = (
    (re.compile(r'^conv1\.conv\.weight$'), 'conv1.weight'),
    (re.compile(r'^conv1\.bn\.(\w+)$'), r'bn1.\1'),
    (re.compile(r'^(layer\d\.\d+)\.conv(\d)\.conv\.weight$'),
     r'\1.conv\2.weight'),
    (re.compile(r'^(layer\d\.\d+)\.conv(\d)\.bn\.(\w+)$'), r'\1.bn\2.\3'),
    (re.compile(r'^(layer\d\.\d+)\.downsample\.conv\.weight$'),
     r'\1.downsample.0.weight'),
    (re.compile(r'^(layer\d\.\d+)\.downsample\.bn\.(\w+)$'),
     r'\1.downsample.1.\2'),
)
#: Blocks per stage -> depth, Basic (18, 34) or Bottleneck (50, 101).
STAGE_BLOCKS = {
    ((2, 2, 2, 2), False): 18,
    ((3, 4, 6, 3), False): 34,
    ((3, 4, 6, 3), True): 50,
    ((3, 4, 23, 3), True): 101,
}


class ConversionError(ValueError):
    """An official checkpoint that cannot be converted."""


def official_to_torchvision(key: str) -> str:
    """The torchvision name of a stripped official key, or '' if none."""
    for pattern, replacement in KEY_RULES:
        if pattern.match(key):
            return pattern.sub(replacement, key)
    return ''


def split_state_dict(state: Dict[str, torch.Tensor], source: str
                     ) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """The student's tensors (prefix stripped) and the teacher keys dropped.

    Raises:
        ConversionError: On keys outside ``backbone.`` / ``backbone_t.``,
            or when there is no student.
    """
    student, teacher, other = {}, [], []
    for key, value in state.items():
        key = key[len(DDP_PREFIX):] if key.startswith(DDP_PREFIX) else key
        if key.startswith(STUDENT_PREFIX):
            student[key[len(STUDENT_PREFIX):]] = value
        elif key.startswith(TEACHER_PREFIX):
            teacher.append(key)
        else:
            other.append(key)
    if other:
        raise ConversionError(
            f'{source}: {len(other)} keys are neither the student '
            f'({STUDENT_PREFIX}*) nor the teacher ({TEACHER_PREFIX}*) of '
            f'a Spa-then-Temp model, e.g. {other[:5]}; is it a Spa-then-Temp '
            'checkpoint?')
    if not student:
        raise ConversionError(
            f'{source}: no {STUDENT_PREFIX}* key (first keys: '
            f'{list(state)[:5]}); a released Spa-then-Temp checkpoint holds '
            f'the student ResNet under {STUDENT_PREFIX!r}')
    return student, teacher


def infer_depth(keys, source: str) -> int:
    """ResNet depth from torchvision-named keys."""
    blocks = []
    for stage in range(1, 5):
        indices = {
            int(match.group(1))
            for match in (re.match(rf'^layer{stage}\.(\d+)\.', key)
                          for key in keys) if match
        }
        blocks.append(len(indices))
    bottleneck = any(re.match(r'^layer\d\.\d+\.conv3\.', k) for k in keys)
    depth = STAGE_BLOCKS.get((tuple(blocks), bottleneck))
    if depth is None:
        raise ConversionError(
            f'{source}: blocks per stage {tuple(blocks)} '
            f'({"bottleneck" if bottleneck else "basic"}) are not a '
            'ResNet-18/34/50/101')
    return depth


def convert_state_dict(state: Dict[str, torch.Tensor], source: str
                       ) -> Tuple[Dict[str, torch.Tensor], int, List[str]]:
    """Map an official ``state_dict`` to torchvision ResNet names.

    Returns:
        tuple: the converted state dict, the depth and the dropped teacher
        keys.

    Raises:
        ConversionError: Unknown, missing or misshapen keys.
    """
    student, teacher = split_state_dict(state, source)
    renamed, unknown = {}, []
    for key, value in student.items():
        new_key = official_to_torchvision(key)
        if new_key:
            renamed[new_key] = value
        else:
            unknown.append(STUDENT_PREFIX + key)
    if unknown:
        raise ConversionError(
            f'{source}: {len(unknown)} student keys are not official '
            f'Spa-then-Temp ResNet keys, e.g. {unknown[:5]}')
    depth = infer_depth(renamed, source)
    backbone = ResNet(depth=depth, out_indices=(0, 1, 2, 3))
    try:
        converted, report = map_state_dict(
            renamed, backbone.checkpoint_key_map(), backbone.state_dict(),
            source)
    except CheckpointError as error:
        raise ConversionError(str(error)) from error
    if report.missing or report.unexpected or report.ignored:
        raise ConversionError(
            f'{source} does not hold exactly a ResNet-{depth}: missing '
            f'{report.missing[:5]}, unexpected '
            f'{(report.unexpected + report.ignored)[:5]}')
    return converted, depth, teacher


def load_official(src: Path, allow_pickle: bool = False
                  ) -> Dict[str, torch.Tensor]:
    """The ``state_dict`` of an official checkpoint file (a bare state dict
    is accepted too)."""
    try:
        state = read_entry_state_dict(src, 'state_dict', allow_pickle)
    except CheckpointError as error:
        raise ConversionError(str(error)) from error
    return {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', type=Path,
                        help='official Spa-then-Temp checkpoint')
    parser.add_argument('dst', type=Path, help='converted ResNet state dict')
    parser.add_argument(
        '--allow-pickle',
        action='store_true',
        help='unpickle arbitrary Python objects in SRC; only for a file '
        'you trust')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        state = load_official(args.src, args.allow_pickle)
        converted, depth, teacher = convert_state_dict(state, str(args.src))
    except ConversionError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    if teacher:
        print(f'dropped the teacher: {len(teacher)} {TEACHER_PREFIX}* keys')
    args.dst.parent.mkdir(parents=True, exist_ok=True)
    torch.save(converted, args.dst)
    print(f'{args.src} -> {args.dst}: ResNet-{depth}, '
          f'{len(converted)} tensors')
    return 0


if __name__ == '__main__':
    sys.exit(main())
