"""Single-object discovery: one foreground mask per frame from the tracks.

For DAVIS-2016, SegTrack-v2 and FBMS-59 (the primary, salient moving
object). :func:`foreground_from_tracks` selects from the discovered tracks
without any annotation and is the default. :func:`oracle_best_track_foreground`
picks the track that best matches the ground truth, as some papers do; its
numbers are NOT unsupervised and must be reported as oracle numbers.
"""
from typing import Optional, Union

import numpy as np
import torch

from mmsmtc.registry import TASK_UTILS
from mmsmtc.structures import VideoDataSample
from .post_processor import ObjectDiscoveryPostProcessor

#: Ground-truth-free rules of :func:`foreground_from_tracks`.
FOREGROUND_RULES = ('union', 'top')


def _check_id_maps(id_maps: torch.Tensor, name: str) -> torch.Tensor:
    id_maps = torch.as_tensor(id_maps)
    if id_maps.dim() != 3 or id_maps.is_floating_point():
        raise ValueError(f'{name} must be (T, H, W) integer ids, got '
                         f'{id_maps.dtype} of shape {tuple(id_maps.shape)}')
    if id_maps.shape[0] == 0:
        raise ValueError(f'{name} has no frames (T == 0)')
    return id_maps


def foreground_from_tracks(id_maps: torch.Tensor,
                           rule: str = 'union') -> torch.Tensor:
    """Binary foreground of every frame, without ground truth.

    ``'union'``: every discovered (non-background) object; robust when an
    object is split into parts across slots. ``'top'``: only id 1, the
    track with the highest selection score (most confident, persistent and
    large), for videos with one dominant object.

    Args:
        id_maps: ``(T, H, W)`` integer ids from
            :class:`ObjectDiscoveryPostProcessor`, 0 background.
        rule: One of :data:`FOREGROUND_RULES`.

    Returns:
        Tensor: ``(T, H, W)`` uint8, 1 foreground, 0 background.
    """
    if rule not in FOREGROUND_RULES:
        raise ValueError(f'rule must be one of {FOREGROUND_RULES}, got '
                         f'{rule!r}')
    id_maps = _check_id_maps(id_maps, 'id_maps')
    foreground = id_maps > 0 if rule == 'union' else id_maps == 1
    return foreground.to(torch.uint8)


def oracle_best_track_foreground(
        id_maps: torch.Tensor,
        gt_masks: np.ndarray,
        gt_frame_indices: Optional[np.ndarray] = None,
        void_id: Optional[int] = 255) -> torch.Tensor:
    """ORACLE: the one track with the best mean IoU to the ground truth.

    Uses the annotation to choose, so the result is not unsupervised. Each
    track is scored by the mean over annotated frames of the IoU of its
    mask with the ground-truth foreground (ids > 0, void excluded; IoU 1
    when both are empty); the best track (lowest id on ties) is the
    foreground of every frame.

    Args:
        id_maps: ``(T, H, W)`` integer track ids, 0 background.
        gt_masks: ``(T_a, H, W)`` ground-truth ids of the annotated frames.
        gt_frame_indices: ``(T_a,)`` their frame positions; None means
            ``0..T_a-1`` with ``T_a == T``.
        void_id: Ground-truth id excluded from scoring, or None.

    Returns:
        Tensor: ``(T, H, W)`` uint8 foreground of the best track (all zeros
        when there is no track).
    """
    id_maps = _check_id_maps(id_maps, 'id_maps')
    gt = _check_id_maps(torch.as_tensor(np.asarray(gt_masks)), 'gt_masks')
    if gt_frame_indices is None:
        gt_frame_indices = np.arange(len(gt))
    indices = torch.as_tensor(np.asarray(gt_frame_indices), dtype=torch.long)
    if indices.shape != (len(gt), ):
        raise ValueError(f'gt_frame_indices must hold one index per '
                         f'annotated frame ({len(gt)}), got shape '
                         f'{tuple(indices.shape)}')
    if len(indices) and (indices.min() < 0 or
                         indices.max() >= len(id_maps)):
        raise ValueError(f'gt_frame_indices must lie in [0, {len(id_maps)})'
                         f', got [{int(indices.min())}, '
                         f'{int(indices.max())}]')
    if gt.shape[1:] != id_maps.shape[1:]:
        raise ValueError(f'gt_masks frames are {tuple(gt.shape[1:])} but '
                         f'id_maps frames are {tuple(id_maps.shape[1:])}')
    num_tracks = int(id_maps.max())
    if num_tracks == 0:
        return torch.zeros_like(id_maps, dtype=torch.uint8)
    pred = id_maps[indices.to(id_maps.device)].long()
    gt = gt.to(id_maps.device).long()
    scored = torch.ones_like(gt, dtype=torch.bool) if void_id is None \
        else gt != void_id
    gt_foreground = (gt > 0) & scored
    track_ids = torch.arange(1, num_tracks + 1, device=id_maps.device)
    ious = []
    for frame in range(len(gt)):
        masks = (pred[frame][None] == track_ids[:, None, None]) & \
            scored[frame][None]
        inter = (masks & gt_foreground[frame][None]).flatten(1).sum(1)
        union = (masks | gt_foreground[frame][None]).flatten(1).sum(1)
        ious.append(torch.where(union > 0, inter / union.clamp(min=1),
                                torch.ones_like(inter, dtype=torch.float)))
    best = int(torch.stack(ious).mean(0).argmax()) + 1
    return (id_maps == best).to(torch.uint8)


@TASK_UTILS.register_module()
class SingleObjectPostProcessor:
    """Discover objects, then keep one foreground mask per frame.

    Args:
        discovery (dict | ObjectDiscoveryPostProcessor): The multi-object
            discovery (config of :class:`ObjectDiscoveryPostProcessor`, its
            ``type`` optional).
            Defaults to its defaults.
        rule (str): Ground-truth-free rule of
            :func:`foreground_from_tracks`. Defaults to ``'union'``.
    """

    def __init__(self,
                 discovery: Union[dict, ObjectDiscoveryPostProcessor,
                                  None] = None,
                 rule: str = 'union') -> None:
        if rule not in FOREGROUND_RULES:
            raise ValueError(f'rule must be one of {FOREGROUND_RULES}, got '
                             f'{rule!r}')
        if discovery is None:
            discovery = ObjectDiscoveryPostProcessor()
        elif isinstance(discovery, dict):
            discovery = TASK_UTILS.build(
                {'type': 'ObjectDiscoveryPostProcessor', **discovery})
        self.discovery = discovery
        self.rule = rule

    def process(self, data_sample: VideoDataSample) -> VideoDataSample:
        """Write ``pred_masks`` ``(T, H, W)`` uint8 0/1 foreground.

        See :meth:`ObjectDiscoveryPostProcessor.process` for the fields
        read; its ``pred_object_scores`` of the discovered objects is kept.
        """
        data_sample = self.discovery.process(data_sample)
        data_sample.pred_masks = foreground_from_tracks(
            torch.from_numpy(data_sample.pred_masks), self.rule).numpy()
        return data_sample
