"""Check a copy of VideoSAUR's shards against the official layout.

Counts shards and samples per split against the official numbers and reads
the ``.npy`` header of every member (shape, dtype, byte size), so a
truncated or malformed shard is named with its member before any training
or test run.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .shards import (ShardFormatError, ShardSample, expand_shard_pattern,
                     list_shard_samples, read_npy_header)


@dataclass(frozen=True)
class SplitLayout:
    """What one split of a VideoSAUR dataset holds officially.

    Attributes:
        pattern: Shard file pattern (glob).
        num_shards: Official shard count.
        num_samples: Official sample count, or None when not fixed here.
        fields: Members every sample must have.
        frames_field: ``'video'`` or ``'image'``.
    """
    pattern: str
    num_shards: int
    num_samples: Optional[int]
    fields: Tuple[str, ...]
    frames_field: str = 'video'


def _movi(name: str) -> Dict[str, SplitLayout]:
    return dict(
        train=SplitLayout(f'{name}-train-*.tar', 305, None, ('video', )),
        validation=SplitLayout(f'{name}-validation-*.tar', 8, 250,
                               ('video', 'segmentations')))


#: The official layouts (VideoSAUR's configs and data/save_*.py).
LAYOUTS: Dict[str, Dict[str, SplitLayout]] = dict(
    movi_c=_movi('movi_c'),
    movi_e=_movi('movi_e'),
    ytvis2021=dict(
        train=SplitLayout('ytvis-train-*.tar', 84, 2685, ('video', )),
        validation=SplitLayout('ytvis-validation-*.tar', 30, 300,
                               ('video', 'segmentations'))),
    coco=dict(
        train=SplitLayout('coco-train-*.tar', 925, None, ('image', ),
                          'image'),
        validation=SplitLayout('coco-validation-*.tar', 40, 5000,
                               ('image', 'segmentations'), 'image')),
)


@dataclass
class SplitReport:
    """The outcome of checking one split."""
    split: str
    num_shards: int = 0
    num_samples: int = 0
    errors: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_sample(sample: ShardSample, layout: SplitLayout) -> None:
    """Check one sample's members and the shapes of their arrays.

    Raises:
        ShardFormatError: Naming the shard and member.
    """
    headers = {name: read_npy_header(sample, name) for name in layout.fields}
    frames = headers[layout.frames_field]
    member = sample.member_name(layout.frames_field)
    where = f'{sample.shard}: member {member!r}'
    ndim = 4 if layout.frames_field == 'video' else 3
    if len(frames.shape) != ndim or frames.shape[-1] != 3 or \
            frames.dtype != np.uint8 or 0 in frames.shape:
        raise ShardFormatError(f'{where}: expected uint8 frames of '
                               f'{ndim} dims ending in 3 channels, got '
                               f'{frames.dtype} {frames.shape}')
    if 'segmentations' not in headers:
        return
    masks = headers['segmentations']
    where = f'{sample.shard}: member {sample.member_name("segmentations")!r}'
    if layout.frames_field == 'video':
        fits = len(masks.shape) == 4 and masks.shape[:3] == frames.shape[:3]
        expected = f'(T, H, W, n) with (T, H, W) = {frames.shape[:3]}'
    else:
        fits = len(masks.shape) == 3 and masks.shape[1:] == frames.shape[:2]
        expected = f'(n, H, W) with (H, W) = {frames.shape[:2]}'
    if not fits or masks.dtype != np.uint8:
        raise ShardFormatError(f'{where}: expected uint8 {expected}, got '
                               f'{masks.dtype} {masks.shape}')


def check_split(root: Union[str, Path], split: str,
                layout: SplitLayout) -> SplitReport:
    """Check every shard and sample of one split (errors are collected)."""
    report = SplitReport(split)
    try:
        shards = expand_shard_pattern(layout.pattern, root)
    except FileNotFoundError as error:
        report.errors.append(str(error))
        return report
    report.num_shards = len(shards)
    if len(shards) != layout.num_shards:
        report.errors.append(f'{split}: {len(shards)} shards, the official '
                             f'layout has {layout.num_shards}')
    for shard in shards:
        try:
            samples = list_shard_samples(shard)
        except ShardFormatError as error:
            report.errors.append(str(error))
            continue
        report.num_samples += len(samples)
        for sample in samples:
            try:
                check_sample(sample, layout)
            except ShardFormatError as error:
                report.errors.append(str(error))
    if layout.num_samples is not None and \
            report.num_samples != layout.num_samples:
        report.errors.append(f'{split}: {report.num_samples} samples, the '
                             f'official split has {layout.num_samples}')
    return report


def check_videosaur_dataset(root: Union[str, Path], dataset: str,
                            splits: Sequence[str] = ('train', 'validation')
                            ) -> List[SplitReport]:
    """Check the splits of one dataset (``LAYOUTS`` key) under ``root``.

    Raises:
        ValueError: On an unknown dataset or split.
    """
    if dataset not in LAYOUTS:
        raise ValueError(f'unknown dataset {dataset!r}; known: '
                         f'{sorted(LAYOUTS)}')
    unknown = set(splits) - set(LAYOUTS[dataset])
    if unknown:
        raise ValueError(f'unknown splits {sorted(unknown)} of {dataset}')
    return [
        check_split(root, split, LAYOUTS[dataset][split]) for split in splits
    ]
