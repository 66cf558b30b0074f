"""Per-frame slot masks -> a DAVIS-2017-unsupervised id map per frame."""
import logging
from typing import NamedTuple, Optional, Sequence

import torch
from mmengine.logging import print_log

from mmsmtc.registry import TASK_UTILS
from mmsmtc.structures import VideoDataSample, video_name
from .background import background_groups, check_background_rule
from .candidates import UPSAMPLE_MODES, extract_candidates
from .inputs import SLOT_FIELDS, ArrayLike, check_discovery_inputs
from .linking import TrackLinker
from .selection import (MAX_UINT8_ID, rank_tracks, render_id_maps,
                        track_selection_scores)


class DiscoveredObjects(NamedTuple):
    """Video-level objects of one video.

    Attributes:
        id_maps: ``(T, H, W)`` uint8 ids ``1..K`` (0 background), id 1 the
            highest-scoring track.
        scores: ``(K,)`` float64 selection score of ids ``1..K``.
        background_groups: ``(G,)`` bool, the groups of masks taken as
            background.
        num_tracks: Tracks that could be kept (present in at least
            ``min_track_frames`` frames) before the ``max_proposals`` cut.
    """
    id_maps: torch.Tensor
    scores: torch.Tensor
    background_groups: torch.Tensor
    num_tracks: int


@TASK_UTILS.register_module()
class ObjectDiscoveryPostProcessor:
    """Slot masks ``(T, K)`` -> at most ``max_proposals`` object tracks.

    Takes any model's per-frame masks through the discovery contract
    (:mod:`mmsmtc.models.discovery.inputs`). Steps (details and advice in
    ``docs/object_discovery.md``):

    1. :func:`extract_candidates`: upsample to the frame size (bilinearly,
       or nearest with ``upsample_mode='nearest'``);
       each pixel belongs to its most probable of the ``K`` masks.
    2. :func:`background_groups`: the groups of masks ranked first by
       ``background_rule`` are background. A mask is *valid* when its group
       is not background, its score is ``>= score_threshold`` and it covers
       ``>= min_area`` of the frame; pixels of invalid masks are background
       (never reassigned).
    3. :class:`TrackLinker`: Hungarian linking of valid masks over time on
       an affinity mixing mask IoU, embedding similarity and the identity of
       group and mask.
    4. :func:`track_selection_scores` / :func:`rank_tracks`: the
       ``max_proposals`` best tracks get ids ``1..K`` by descending
       ``mean score * persistence * mean area ** area_exponent``.
    5. :func:`render_id_maps`: non-overlapping ``(T, H, W)`` uint8 id maps.

    Args:
        max_proposals (int): Most objects per video (DAVIS: 20). At
            255, the uint8 limit, a video with more tracks logs a warning
            naming it.
        score_threshold (float): Least score of a valid mask (official SMTC
            evaluation: 0.5). Masks without scores count as 1.
        min_area (float): Least area of a valid mask, as a fraction of the
            frame. Defaults to 0.001.
        background_rule (str): ``'border'`` (groups owning most frame-border
            pixels over the video), ``'area'`` (largest groups) or
            ``'none'``.
        num_background_groups (int): Groups marked background. Defaults
            to 1.
        iou_weight, embedding_weight, same_group_weight, same_mask_weight,
            link_threshold, max_gap: Linking, see :class:`TrackLinker`.
        area_exponent (float): Weight of the area in the selection score.
            Defaults to 0.5.
        min_track_frames (int): Tracks present in fewer frames are dropped.
            Defaults to 1.
        upsample_mode (str): ``'bilinear'`` (default) or ``'nearest'``
            (Betrayed by Attention's evaluation upsamples its one-hot
            cluster masks so).
    """

    def __init__(self,
                 max_proposals: int = 20,
                 score_threshold: float = 0.5,
                 min_area: float = 0.001,
                 background_rule: str = 'border',
                 num_background_groups: int = 1,
                 iou_weight: float = 1.0,
                 embedding_weight: float = 1.0,
                 same_group_weight: float = 0.5,
                 same_mask_weight: float = 0.0,
                 link_threshold: float = 0.3,
                 max_gap: Optional[int] = 15,
                 area_exponent: float = 0.5,
                 min_track_frames: int = 1,
                 upsample_mode: str = 'bilinear') -> None:
        if int(max_proposals) != max_proposals or not \
                1 <= max_proposals <= MAX_UINT8_ID:
            raise ValueError('max_proposals must be an integer in [1, '
                             f'{MAX_UINT8_ID}], got {max_proposals!r}')
        if not 0.0 <= min_area <= 1.0:
            raise ValueError(f'min_area must be in [0, 1], got {min_area}')
        if not area_exponent >= 0:
            raise ValueError(
                f'area_exponent must be >= 0, got {area_exponent}')
        if int(min_track_frames) != min_track_frames or min_track_frames < 1:
            raise ValueError('min_track_frames must be an integer >= 1, got '
                             f'{min_track_frames!r}')
        if upsample_mode not in UPSAMPLE_MODES:
            raise ValueError(f'upsample_mode must be one of {UPSAMPLE_MODES}, '
                             f'got {upsample_mode!r}')
        self.upsample_mode = upsample_mode
        check_background_rule(background_rule, num_background_groups)
        self.max_proposals = int(max_proposals)
        self.score_threshold = float(score_threshold)
        self.min_area = float(min_area)
        self.background_rule = background_rule
        self.num_background_groups = int(num_background_groups)
        self.linker = TrackLinker(iou_weight, embedding_weight,
                                  same_group_weight, same_mask_weight,
                                  link_threshold, max_gap)
        self.area_exponent = float(area_exponent)
        self.min_track_frames = int(min_track_frames)

    def __call__(self,
                 masks: ArrayLike,
                 frame_size: Sequence[int],
                 scores: Optional[ArrayLike] = None,
                 embeddings: Optional[ArrayLike] = None,
                 groups: Optional[ArrayLike] = None,
                 group_maps: Optional[ArrayLike] = None) -> DiscoveredObjects:
        """Discover the objects of one video.

        Args:
            masks: ``(T, K, h, w)`` soft masks (SMTC: instance probabilities
                ``softmax_S(semantic) * softmax_P(instance)``, slot-major).
            frame_size: ``(H, W)`` of the output.
            scores: Optional ``(T, K)`` scores (SMTC: cosine of each
                instance slot with its semantic slot).
            embeddings: Optional ``(T, K, D)`` embeddings.
            groups: Optional ``(K,)`` group of each mask (SMTC: ``k // P``).
            group_maps: Optional ``(T, G, h, w)`` group logits (SMTC: the
                semantic logits).

        Returns:
            DiscoveredObjects: id maps on the input device, scores and
            background groups on the CPU.
        """
        inputs = check_discovery_inputs(masks, frame_size, scores,
                                        embeddings, groups, group_maps)
        candidates = extract_candidates(inputs.masks, inputs.frame_size,
                                        inputs.groups, inputs.group_maps,
                                        self.upsample_mode)
        is_background = background_groups(
            candidates.group_border_pixels.cpu(),
            candidates.group_areas.cpu(), self.background_rule,
            self.num_background_groups)
        frame_pixels = inputs.frame_size[0] * inputs.frame_size[1]
        area_fractions = candidates.areas.cpu().double() / frame_pixels
        scores = inputs.scores.cpu()
        groups = inputs.groups.cpu()
        valid = ((scores >= self.score_threshold)
                 & (area_fractions >= self.min_area)
                 & (area_fractions > 0)
                 & ~is_background[groups][None])
        tracks = self.linker(candidates.labels, valid, groups,
                             inputs.embeddings)
        selection = track_selection_scores(tracks, scores, area_fractions,
                                           self.area_exponent)
        track_frames = torch.bincount(
            tracks[tracks >= 0], minlength=len(selection))
        track_ids = rank_tracks(selection, track_frames, self.max_proposals,
                                self.min_track_frames)
        kept = torch.nonzero(track_ids).flatten()
        kept = kept[torch.argsort(track_ids[kept])]
        return DiscoveredObjects(
            render_id_maps(candidates.labels, tracks, track_ids),
            selection[kept], is_background,
            int((track_frames >= self.min_track_frames).sum()))

    def process(self, data_sample: VideoDataSample) -> VideoDataSample:
        """Write ``pred_masks`` from a model's ``predict`` data sample.

        Reads the slot fields of the discovery contract
        (:data:`~mmsmtc.models.discovery.inputs.SLOT_FIELDS`:
        ``pred_slot_masks`` required, the others optional) and
        ``ori_shape`` from the meta information.

        Returns:
            VideoDataSample: the same sample with ``pred_masks`` (np.ndarray
            ``(T, H, W)`` uint8 ids) and ``pred_object_scores``
            (np.ndarray ``(K,)``) added.

        Raises:
            KeyError: If ``pred_slot_masks`` or ``ori_shape`` is missing.
            ValueError: Naming the video, if the fields disagree.
        """
        name = video_name(data_sample)
        if SLOT_FIELDS[0] not in data_sample:
            raise KeyError(f'{name}: the data sample has no '
                           f"'{SLOT_FIELDS[0]}' (run the model in predict "
                           'mode first)')
        if 'ori_shape' not in data_sample.metainfo:
            raise KeyError(f"{name}: the data sample has no 'ori_shape' "
                           'meta information (output frame size)')
        masks, scores, embeddings, groups, group_maps = (
            data_sample.get(field) for field in SLOT_FIELDS)
        try:
            result = self(masks, data_sample.metainfo['ori_shape'], scores,
                          embeddings, groups, group_maps)
        except (RuntimeError, ValueError) as error:
            raise ValueError(f'{name}: {error}') from error
        if result.num_tracks > self.max_proposals == MAX_UINT8_ID:
            print_log(
                f'{name}: kept the {MAX_UINT8_ID} highest-ranked of '
                f'{result.num_tracks} tracks (uint8 id maps hold '
                f'{MAX_UINT8_ID} objects)',
                logger='current',
                level=logging.WARNING)
        data_sample.pred_masks = result.id_maps.cpu().numpy()
        data_sample.pred_object_scores = result.scores.numpy()
        return data_sample
