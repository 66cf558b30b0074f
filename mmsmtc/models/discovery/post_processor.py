"""Turn SMTC candidates into a DAVIS-2017-unsupervised id map per frame."""
from typing import NamedTuple, Optional, Sequence

import torch

from mmsmtc.registry import MODELS
from mmsmtc.structures import VideoDataSample
from .background import background_slots, check_background_rule
from .candidates import extract_candidates
from .inputs import ArrayLike, check_discovery_inputs
from .linking import TrackLinker
from .selection import (MAX_UINT8_ID, rank_tracks, render_id_maps,
                        track_selection_scores)


class DiscoveredObjects(NamedTuple):
    """Video-level objects of one video.

    Attributes:
        id_maps: ``(T, H, W)`` uint8 ids ``1..K`` (0 background), id 1 the
            highest-scoring track.
        scores: ``(K,)`` float64 selection score of ids ``1..K``.
        background_slots: ``(S,)`` bool, the semantic slots taken as
            background.
    """
    id_maps: torch.Tensor
    scores: torch.Tensor
    background_slots: torch.Tensor


@MODELS.register_module()
class ObjectDiscoveryPostProcessor:
    """Candidates ``(T, S, P)`` -> at most ``max_proposals`` object tracks.

    Steps (details and advice in ``docs/object_discovery.md``):

    1. :func:`extract_candidates`: upsample to the frame size bilinearly;
       each pixel belongs to its most probable of the ``S * P`` candidates.
    2. :func:`background_slots`: the semantic slots ranked first by
       ``background_rule`` are background. A candidate is *valid* when its
       slot is not background, its score is ``>= score_threshold`` and it
       covers ``>= min_area`` of the frame; pixels of invalid candidates
       are background (never reassigned).
    3. :class:`TrackLinker`: Hungarian linking of valid candidates over time
       on an affinity mixing mask IoU, embedding similarity and slot
       identity.
    4. :func:`track_selection_scores` / :func:`rank_tracks`: the
       ``max_proposals`` best tracks get ids ``1..K`` by descending
       ``mean score * persistence * mean area ** area_exponent``.
    5. :func:`render_id_maps`: non-overlapping ``(T, H, W)`` uint8 id maps.

    Args:
        max_proposals (int): Most objects per video (DAVIS: 20).
        score_threshold (float): Least instance score of a valid candidate
            (official SMTC evaluation: 0.5).
        min_area (float): Least area of a valid candidate, as a fraction of
            the frame. Defaults to 0.001.
        background_rule (str): ``'border'`` (slots owning most frame-border
            pixels over the video), ``'area'`` (largest slots) or
            ``'none'``.
        num_background_slots (int): Slots marked background. Defaults to 1.
        iou_weight, embedding_weight, semantic_slot_weight,
            instance_slot_weight, link_threshold, max_gap: Linking, see
            :class:`TrackLinker`.
        area_exponent (float): Weight of the area in the selection score.
            Defaults to 0.5.
        min_track_frames (int): Tracks present in fewer frames are dropped.
            Defaults to 1.
    """

    def __init__(self,
                 max_proposals: int = 20,
                 score_threshold: float = 0.5,
                 min_area: float = 0.001,
                 background_rule: str = 'border',
                 num_background_slots: int = 1,
                 iou_weight: float = 1.0,
                 embedding_weight: float = 1.0,
                 semantic_slot_weight: float = 0.5,
                 instance_slot_weight: float = 0.0,
                 link_threshold: float = 0.3,
                 max_gap: Optional[int] = 15,
                 area_exponent: float = 0.5,
                 min_track_frames: int = 1) -> None:
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
        check_background_rule(background_rule, num_background_slots)
        self.max_proposals = int(max_proposals)
        self.score_threshold = float(score_threshold)
        self.min_area = float(min_area)
        self.background_rule = background_rule
        self.num_background_slots = int(num_background_slots)
        self.linker = TrackLinker(iou_weight, embedding_weight,
                                  semantic_slot_weight, instance_slot_weight,
                                  link_threshold, max_gap)
        self.area_exponent = float(area_exponent)
        self.min_track_frames = int(min_track_frames)

    def __call__(self,
                 semantic: ArrayLike,
                 instance_masks: ArrayLike,
                 instance_scores: ArrayLike,
                 frame_size: Sequence[int],
                 instance_embeddings: Optional[ArrayLike] = None
                 ) -> DiscoveredObjects:
        """Discover the objects of one video.

        Args:
            semantic: ``(T, S, h, w)`` semantic slot logits or
                probabilities.
            instance_masks: ``(T, S, P, h, w)`` instance probabilities
                (SMTC: ``softmax_S(semantic) * softmax_P(instance)``).
            instance_scores: ``(T, S, P)`` instance scores (SMTC: cosine
                of each instance slot with its semantic slot).
            frame_size: ``(H, W)`` of the output.
            instance_embeddings: Optional ``(T, S, P, D)`` embeddings.

        Returns:
            DiscoveredObjects: id maps on the input device, scores and
            background slots on the CPU.
        """
        inputs = check_discovery_inputs(semantic, instance_masks,
                                        instance_scores, frame_size,
                                        instance_embeddings)
        frames, slots, instances = inputs.instance_masks.shape[:3]
        candidates = extract_candidates(inputs.semantic,
                                        inputs.instance_masks,
                                        inputs.frame_size)
        is_background = background_slots(
            candidates.slot_border_pixels.cpu(), candidates.slot_areas.cpu(),
            self.background_rule, self.num_background_slots)
        frame_pixels = inputs.frame_size[0] * inputs.frame_size[1]
        area_fractions = candidates.areas.cpu().double() / frame_pixels
        scores = inputs.instance_scores.flatten(1).cpu()
        valid = ((scores >= self.score_threshold)
                 & (area_fractions >= self.min_area)
                 & (area_fractions > 0)
                 & ~is_background.repeat_interleave(instances)[None])
        embeddings = inputs.instance_embeddings
        if embeddings is not None:
            embeddings = embeddings.flatten(1, 2)
        tracks = self.linker(candidates.labels, valid, instances, embeddings)
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
            selection[kept], is_background)

    def process(self, data_sample: VideoDataSample) -> VideoDataSample:
        """Write ``pred_masks`` from an SMTC ``predict`` data sample.

        Reads ``pred_semantic_logits (T, S, h, w)``, ``pred_instance_masks
        (T, S * P, h, w)`` and ``pred_instance_scores (T, S * P)``
        (slot-major, index ``s * P + p``), optional
        ``pred_instance_embeddings (T, S * P, D)``, and ``ori_shape`` from
        the meta information.

        Returns:
            VideoDataSample: the same sample with ``pred_masks`` (np.ndarray
            ``(T, H, W)`` uint8 ids) and ``pred_object_scores``
            (np.ndarray ``(K,)``) added.

        Raises:
            KeyError: If a required field or ``ori_shape`` is missing.
            ValueError: If ``S * P`` is not a multiple of ``S``.
        """
        name = data_sample.metainfo.get('video_name', 'video')
        for field in ('pred_semantic_logits', 'pred_instance_masks',
                      'pred_instance_scores'):
            if field not in data_sample:
                raise KeyError(f'{name}: the data sample has no {field!r} '
                               '(run the model in predict mode first)')
        if 'ori_shape' not in data_sample.metainfo:
            raise KeyError(f"{name}: the data sample has no 'ori_shape' "
                           'meta information (output frame size)')
        semantic = torch.as_tensor(data_sample.pred_semantic_logits)
        masks = torch.as_tensor(data_sample.pred_instance_masks)
        num_slots = semantic.shape[1] if semantic.dim() == 4 else 0
        if masks.dim() != 4 or not num_slots or masks.shape[1] % num_slots:
            raise ValueError(
                f'{name}: pred_instance_masks {tuple(masks.shape)} must be '
                '(T, S * P, h, w) with S from pred_semantic_logits '
                f'{tuple(semantic.shape)} (T, S, h, w)')
        instances = masks.shape[1] // num_slots
        scores = torch.as_tensor(data_sample.pred_instance_scores)
        embeddings = data_sample.get('pred_instance_embeddings')
        try:
            result = self(
                semantic, masks.unflatten(1, (num_slots, instances)),
                scores.unflatten(-1, (num_slots, instances)),
                data_sample.metainfo['ori_shape'],
                None if embeddings is None else torch.as_tensor(
                    embeddings).unflatten(1, (num_slots, instances)))
        except (RuntimeError, ValueError) as error:
            raise ValueError(f'{name}: {error}') from error
        data_sample.pred_masks = result.id_maps.cpu().numpy()
        data_sample.pred_object_scores = result.scores.numpy()
        return data_sample
