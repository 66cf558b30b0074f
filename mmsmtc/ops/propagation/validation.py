"""Input checks shared by the label-propagation entry points.

Every check raises an exception naming the offending argument, so a wrong
call fails at the boundary instead of deep inside a matrix product.
"""
from typing import Tuple

import torch

from .geometry import CONTEXTS, WINDOWS


def check_propagation_settings(*,
                               topk: int,
                               radius: float,
                               temperature: float,
                               n_context: int,
                               window: str = 'disc',
                               restrict_first_frame: bool = False,
                               context: str = 'pad') -> None:
    """Validate the protocol settings.

    Raises:
        ValueError: If ``topk`` or ``n_context`` is below 1, ``radius``
            or ``temperature`` is not positive, or ``window``,
            ``restrict_first_frame`` or ``context`` is not one of its
            values.
    """
    if window not in WINDOWS:
        raise ValueError(f'window must be one of {WINDOWS}, got {window!r}')
    if context not in CONTEXTS:
        raise ValueError(
            f'context must be one of {CONTEXTS}, got {context!r}')
    if not isinstance(restrict_first_frame, bool):
        raise ValueError('restrict_first_frame must be True or False, got '
                         f'{restrict_first_frame!r}')
    if int(topk) != topk or topk < 1:
        raise ValueError(f'topk must be an integer >= 1, got {topk!r}')
    if int(n_context) != n_context or n_context < 1:
        raise ValueError(
            f'n_context must be an integer >= 1, got {n_context!r}')
    if not radius > 0:
        raise ValueError(f'radius must be > 0 grid cells, got {radius!r}')
    if not temperature > 0:
        raise ValueError(f'temperature must be > 0, got {temperature!r}')


def check_topk_fits(topk: int,
                    n_context: int,
                    grid: Tuple[int, int],
                    context: str = 'pad') -> None:
    """Check that ``topk`` does not exceed the number of source cells.

    The protocol scores ``(1 + n_context) * h * w`` source cells per target
    cell (``context='pad'``), or ``2 * h * w`` for frame 1 with
    ``context='recent'``; the official code fails inside ``torch.topk``
    beyond that.

    Raises:
        ValueError: If ``topk`` is larger than that count.
    """
    frames = 1 + n_context if context == 'pad' else 2
    num_sources = frames * grid[0] * grid[1]
    if topk > num_sources:
        raise ValueError(
            f'topk={topk} exceeds the {num_sources} source cells '
            f'({frames} source frames of {grid[0]}x{grid[1]}, '
            f'context={context!r})')


def check_frame_features(feats: torch.Tensor, name: str,
                         ndim: int) -> None:
    """Check a floating feature tensor of ``ndim`` dimensions.

    Raises:
        TypeError: If ``feats`` is not a floating-point tensor.
        ValueError: If it has the wrong number of dimensions, no channel,
            or non-finite values.
    """
    if not isinstance(feats, torch.Tensor) or not feats.is_floating_point():
        raise TypeError(f'{name} must be a floating-point tensor, got '
                        f'{type(feats).__name__} '
                        f'{getattr(feats, "dtype", "")}')
    layout = '(T, C, h, w)' if ndim == 4 else '(C, h, w)'
    if feats.ndim != ndim:
        raise ValueError(f'{name} must be {layout}, got shape '
                         f'{tuple(feats.shape)}')
    if ndim == 4 and feats.shape[0] < 1:
        raise ValueError(f'{name} must hold at least one frame (T >= 1), '
                         f'got shape {tuple(feats.shape)}')
    if feats.shape[-3] < 1 or feats.shape[-2] < 1 or feats.shape[-1] < 1:
        raise ValueError(f'{name} has an empty channel or grid dimension: '
                         f'shape {tuple(feats.shape)}')
    if not bool(torch.isfinite(feats).all()):
        raise ValueError(f'{name} holds NaN or infinite values')


def check_first_labels(first_labels: torch.Tensor,
                       grid: Tuple[int, int]) -> None:
    """Check frame 0's labels against the feature grid.

    Raises:
        TypeError: If ``first_labels`` is not a floating-point tensor.
        ValueError: If it is not ``(K, h, w)`` on ``grid``, holds NaN or
            infinite values, or carries no label at all (all zeros: the
            first frame has no annotation).
    """
    if not isinstance(first_labels,
                      torch.Tensor) or not first_labels.is_floating_point():
        raise TypeError('first_labels must be a floating-point (K, h, w) '
                        f'tensor, got {type(first_labels).__name__} '
                        f'{getattr(first_labels, "dtype", "")}')
    if first_labels.ndim != 3 or first_labels.shape[0] < 1:
        raise ValueError('first_labels must be (K, h, w) with K >= 1, got '
                         f'shape {tuple(first_labels.shape)}')
    if tuple(first_labels.shape[1:]) != tuple(grid):
        raise ValueError(
            f'first_labels grid {tuple(first_labels.shape[1:])} does not '
            f'match the feature grid {tuple(grid)} (feats is (T, C, h, w), '
            'first_labels (K, h, w))')
    if not bool(torch.isfinite(first_labels).all()):
        raise ValueError('first_labels holds NaN or infinite values')
    if not bool((first_labels != 0).any()):
        raise ValueError('first_labels is all zeros: the first frame has no '
                         'annotation to propagate')
