"""Strict, key-mapped loading of backbone checkpoints.

A backbone never trusts the key names of a foreign checkpoint. It publishes a
:class:`KeyMap` (``source key -> module key``, plus the source prefixes it
deliberately leaves unused) and :func:`load_mapped_checkpoint` does the rest:

1. :func:`mmsmtc.utils.checkpoint.read_checkpoint` -- weights-only loading
   with mmsmtc's allow-list; anything else is refused, naming the file.
2. :func:`select_state_dict` -- picks ``teacher``/``student`` from a DINO
   training checkpoint (or ``state_dict``/``model_state_dict``/``model``) and
   strips the wrapper prefixes ``module.``, ``backbone.`` and ``encoder.``.
3. :func:`map_state_dict` -- renames through the key map, refuses a
   checkpoint whose shapes disagree with the module or that fills nothing,
   and reports loaded / missing / unexpected / ignored keys.
"""
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Tuple, Union

import torch
from mmengine.logging import print_log
from torch import nn

from mmsmtc.utils.checkpoint import (CheckpointError, nested_state_dict,
                                     read_checkpoint)

#: Prefixes added by DDP (``module.``), DINO's MultiCropWrapper
#: (``backbone.``) and the official SMTC model (``encoder.``).
WRAPPER_PREFIXES = ('module.', 'backbone.', 'encoder.')
#: Entries of a training checkpoint that hold one network each.
TRAINING_CHECKPOINT_NETWORKS = ('teacher', 'student')


@dataclass
class KeyMap:
    """How a checkpoint's keys land in a module.

    Args:
        mapping (dict[str, str]): source key -> module state-dict key.
        ignored_prefixes (tuple[str]): source key prefixes that are expected
            and deliberately unused (classifier or DINO heads, stages or the
            final norm the configuration does not build); logged at INFO.
    """
    mapping: Dict[str, str]
    ignored_prefixes: Tuple[str, ...] = ()


@dataclass
class LoadReport:
    """What :func:`map_state_dict` did with each key."""
    loaded: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    ignored: List[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per category, listing at most 10 keys each."""
        lines = [f'loaded {len(self.loaded)} tensors']
        for name in ('missing', 'unexpected', 'ignored'):
            keys = getattr(self, name)
            if keys:
                shown = ', '.join(keys[:10])
                more = f' (+{len(keys) - 10} more)' if len(keys) > 10 else ''
                lines.append(f'{name} {len(keys)}: {shown}{more}')
        return '\n'.join(lines)


def strip_wrapper_prefixes(key: str) -> str:
    """Remove leading ``module.``/``backbone.``/``encoder.`` (any order)."""
    stripped = True
    while stripped:
        stripped = False
        for prefix in WRAPPER_PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix):]
                stripped = True
    return key


def select_state_dict(checkpoint: Mapping,
                      which: str = 'teacher',
                      source: str = 'checkpoint') -> Dict[str, torch.Tensor]:
    """The tensors of one network, with wrapper prefixes stripped.

    Args:
        checkpoint: what :func:`read_checkpoint` returned.
        which: ``'teacher'`` or ``'student'``; used only for a DINO training
            checkpoint (one that has those entries).
        source: the file name, for error messages.

    Returns:
        dict[str, Tensor]: stripped key -> tensor.
    """
    if which not in TRAINING_CHECKPOINT_NETWORKS:
        raise ValueError(f'which must be one of '
                         f'{TRAINING_CHECKPOINT_NETWORKS}, got {which!r}')
    if any(name in checkpoint for name in TRAINING_CHECKPOINT_NETWORKS):
        if which not in checkpoint:
            raise CheckpointError(
                f'{source} is a training checkpoint without a {which!r} '
                f'network (it has {sorted(checkpoint)})')
        checkpoint = checkpoint[which]
    else:
        checkpoint = nested_state_dict(checkpoint)
    state = {}
    for key, value in checkpoint.items():
        if not isinstance(value, torch.Tensor):
            continue
        stripped = strip_wrapper_prefixes(key)
        if stripped in state:
            raise CheckpointError(
                f'{source}: keys {key!r} and another key both become '
                f'{stripped!r} once wrapper prefixes are stripped')
        state[stripped] = value
    if not state:
        raise CheckpointError(f'{source} contains no tensors')
    return state


def map_state_dict(source_state: Mapping[str, torch.Tensor],
                   key_map: KeyMap,
                   target_state: Mapping[str, torch.Tensor],
                   source: str = 'checkpoint'
                   ) -> Tuple[Dict[str, torch.Tensor], LoadReport]:
    """Rename a state dict through a key map and check every shape.

    Args:
        source_state: stripped source key -> tensor.
        key_map: the module's :class:`KeyMap`.
        target_state: the module's ``state_dict()`` (for names and shapes).
        source: the file name, for error messages.

    Returns:
        (mapped state dict keyed by module keys, :class:`LoadReport`).
    """
    report = LoadReport()
    mapped = {}
    mismatches = []
    for key, tensor in source_state.items():
        target_key = key_map.mapping.get(key)
        if target_key is None:
            if key.startswith(key_map.ignored_prefixes):
                report.ignored.append(key)
            else:
                report.unexpected.append(key)
            continue
        if target_key not in target_state:
            raise KeyError(f'key map sends {key!r} to {target_key!r}, '
                           'which the module does not have')
        expected = tuple(target_state[target_key].shape)
        if tuple(tensor.shape) != expected:
            mismatches.append(f'{key}: checkpoint {tuple(tensor.shape)} vs '
                              f'model {expected}')
            continue
        mapped[target_key] = tensor
        report.loaded.append(target_key)
    if mismatches:
        raise CheckpointError(
            f'{source}: {len(mismatches)} tensors do not match the model '
            f'(is it a checkpoint of another architecture?): '
            + '; '.join(mismatches[:5]))
    if not mapped:
        raise CheckpointError(
            f'{source}: none of its {len(source_state)} tensors maps onto '
            f'the model (first keys: {list(source_state)[:5]}); expected '
            f'keys like {list(key_map.mapping)[:3]}')
    report.missing = [key for key in target_state if key not in mapped]
    return mapped, report


def load_mapped_checkpoint(module: nn.Module,
                           path: Union[str, Path],
                           key_map: KeyMap,
                           which: str = 'teacher',
                           strict: bool = False) -> LoadReport:
    """Load ``path`` into ``module`` strictly through ``key_map``.

    Missing and unexpected keys are logged as warnings (with ``strict``:
    raise :class:`CheckpointError` before anything is loaded), ignored ones
    at INFO; shape mismatches and checkpoints that load nothing raise
    :class:`CheckpointError`.
    """
    source = str(path)
    state = select_state_dict(read_checkpoint(path), which, source)
    mapped, report = map_state_dict(state, key_map, module.state_dict(),
                                    source)
    if strict and (report.missing or report.unexpected):
        raise CheckpointError(
            f'{source} does not fill {type(module).__name__} exactly '
            f'(strict loading):\n{report.summary()}')
    module.load_state_dict(mapped, strict=False)
    level = (logging.WARNING
             if report.missing or report.unexpected else logging.INFO)
    print_log(
        f'{type(module).__name__} loaded {source}:\n{report.summary()}',
        logger='current',
        level=level)
    return report
