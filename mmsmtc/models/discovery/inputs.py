"""The discovery contract: per-frame slot masks, and their validation.

Any model whose ``predict`` gives per-frame object masks plugs into object
discovery (:class:`ObjectDiscoveryPostProcessor`): ``K`` flat masks per
frame -- slots, clusters, or instance slots of semantic slots -- with
optional per-mask scores and embeddings, and optional groups of masks
(SMTC: the semantic slot of each instance slot) with maps of the groups
for the background rule. The prediction fields of a data sample:

- ``pred_slot_masks`` ``(T, K, h, w)``: soft masks; a pixel belongs to the
  mask of highest value (required).
- ``pred_slot_scores`` ``(T, K)``: confidence of each mask (default 1).
- ``pred_slot_embeddings`` ``(T, K, D)``: appearance of each mask, used to
  link masks over time.
- ``pred_slot_groups`` ``(K,)``: integer group of each mask (default: each
  mask its own group).
- ``pred_group_maps`` ``(T, G, h, w)``: maps whose per-pixel arg-max is the
  group (default: the group of the pixel's mask).
"""
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch

ArrayLike = Union[torch.Tensor, np.ndarray]
#: Most masks (``K``) per frame: linking counts the ``K * K`` pairs of
#: masks with int32 codes.
MAX_CANDIDATES = 46340
#: The data-sample fields of the contract, in argument order of
#: :func:`check_discovery_inputs` after the masks.
SLOT_FIELDS = ('pred_slot_masks', 'pred_slot_scores', 'pred_slot_embeddings',
               'pred_slot_groups', 'pred_group_maps')


class DiscoveryInputs(NamedTuple):
    """Checked slot masks of one video (all on the masks' device).

    Attributes:
        masks: ``(T, K, h, w)`` float soft masks.
        scores: ``(T, K)`` float scores (ones when none were given).
        embeddings: ``(T, K, D)`` float embeddings, or None.
        groups: ``(K,)`` int64 group of each mask, ids ``0..G-1``.
        group_maps: ``(T, G, h, w)`` float group maps, or None.
        frame_size: ``(H, W)`` of the output id maps.
    """
    masks: torch.Tensor
    scores: torch.Tensor
    embeddings: Optional[torch.Tensor]
    groups: torch.Tensor
    group_maps: Optional[torch.Tensor]
    frame_size: Tuple[int, int]

    @property
    def num_groups(self) -> int:
        """``G``."""
        return int(self.groups.max()) + 1


def _as_tensor(value: ArrayLike, name: str, ndim: int, layout: str,
               floating: bool = True) -> torch.Tensor:
    """Convert to a tensor of ``ndim`` dims (float without NaN/inf, or
    integer)."""
    if not isinstance(value, (torch.Tensor, np.ndarray)):
        raise TypeError(f'{name} must be a tensor or array {layout}, got '
                        f'{type(value).__name__}')
    tensor = torch.as_tensor(value)
    if tensor.dim() != ndim:
        raise ValueError(f'{name} must be {layout}, got shape '
                         f'{tuple(tensor.shape)}')
    if not floating:
        if tensor.is_floating_point() or tensor.is_complex():
            raise ValueError(f'{name} must hold integers, got {tensor.dtype}')
        return tensor.long()
    if not tensor.is_floating_point():
        tensor = tensor.float()
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f'{name} contains NaN or infinite values')
    return tensor


def _check_frame_size(frame_size: Sequence[int]) -> Tuple[int, int]:
    """``(H, W)`` as two positive ints."""
    try:
        height, width = (int(size) for size in frame_size)
        exact = (height, width) == tuple(frame_size)
    except (TypeError, ValueError):
        exact = False
    if not exact or min(height, width) < 1:
        raise ValueError('frame_size must be two positive integers (H, W), '
                         f'got {frame_size!r}')
    return height, width


def _check_groups(groups: Optional[ArrayLike], num_masks: int,
                  device: torch.device) -> torch.Tensor:
    """``(K,)`` int64 group ids numbered ``0..G-1`` with every id used."""
    if groups is None:
        return torch.arange(num_masks, device=device)
    groups = _as_tensor(groups, 'groups', 1, '(K,)',
                        floating=False).to(device)
    if len(groups) != num_masks:
        raise ValueError(f'groups has {len(groups)} entries but there are '
                         f'{num_masks} masks (K)')
    if bool((groups < 0).any()):
        raise ValueError('groups must be >= 0')
    used = torch.unique(groups)
    if len(used) != int(groups.max()) + 1:
        raise ValueError('groups must number the groups 0..G-1 without '
                         f'gaps, got ids {used.tolist()}')
    return groups


def check_discovery_inputs(
        masks: ArrayLike,
        frame_size: Sequence[int],
        scores: Optional[ArrayLike] = None,
        embeddings: Optional[ArrayLike] = None,
        groups: Optional[ArrayLike] = None,
        group_maps: Optional[ArrayLike] = None) -> DiscoveryInputs:
    """Check shapes, agreement and values of one video's slot masks.

    Args:
        masks: ``(T, K, h, w)`` soft masks.
        frame_size: ``(H, W)`` of the original frames.
        scores: Optional ``(T, K)`` scores.
        embeddings: Optional ``(T, K, D)`` embeddings.
        groups: Optional ``(K,)`` integer groups ``0..G-1``.
        group_maps: Optional ``(T, G, h, w)`` group maps.

    Returns:
        DiscoveryInputs: tensors on ``masks``' device.

    Raises:
        TypeError: If an input is neither a tensor nor an array.
        ValueError: Naming the argument, on a wrong number of dims, sizes
            that disagree between the arguments, no frames, no masks, NaN
            or infinite values, bad groups or a bad ``frame_size``.
    """
    masks = _as_tensor(masks, 'masks', 4, '(T, K, h, w)')
    frames, num_masks, height, width = masks.shape
    if frames == 0:
        raise ValueError('masks has no frames (T == 0)')
    if num_masks == 0 or height * width == 0:
        raise ValueError('masks must have K, h, w >= 1, got shape '
                         f'{tuple(masks.shape)}')
    if num_masks > MAX_CANDIDATES:
        raise ValueError(f'masks has K = {num_masks} masks per frame, more '
                         f'than {MAX_CANDIDATES}')
    device = masks.device
    if scores is None:
        scores = torch.ones(frames, num_masks, device=device)
    scores = _as_tensor(scores, 'scores', 2, '(T, K)').to(device)
    if scores.shape != (frames, num_masks):
        raise ValueError(
            f'scores has shape {tuple(scores.shape)} but masks '
            f'{tuple(masks.shape)} needs (T, K) = {(frames, num_masks)}')
    if embeddings is not None:
        embeddings = _as_tensor(embeddings, 'embeddings', 3,
                                '(T, K, D)').to(device)
        if embeddings.shape[:2] != (frames, num_masks):
            raise ValueError(
                f'embeddings has shape {tuple(embeddings.shape)} but masks '
                f'{tuple(masks.shape)} needs (T, K, D) with (T, K) = '
                f'{(frames, num_masks)}')
    groups = _check_groups(groups, num_masks, device)
    if group_maps is not None:
        group_maps = _as_tensor(group_maps, 'group_maps', 4,
                                '(T, G, h, w)').to(device)
        expected = (frames, int(groups.max()) + 1, height, width)
        if group_maps.shape != expected:
            raise ValueError(
                f'group_maps has shape {tuple(group_maps.shape)} but masks '
                f'{tuple(masks.shape)} with {expected[1]} groups needs '
                f'(T, G, h, w) = {expected}')
    return DiscoveryInputs(masks, scores, embeddings, groups, group_maps,
                           _check_frame_size(frame_size))
