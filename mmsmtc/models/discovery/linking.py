"""Linking per-frame masks into video tracks (Hungarian matching)."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment


def pairwise_label_iou(labels_a: torch.Tensor, labels_b: torch.Tensor,
                       num_candidates: int) -> torch.Tensor:
    """IoU of every candidate of one label map with every one of another.

    Args:
        labels_a: ``(H, W)`` integer candidate ids in ``[0, N)``.
        labels_b: ``(H, W)`` integer candidate ids in ``[0, N)``.
        num_candidates: ``N``, at most 46340 (pair codes are int32, which
            ``bincount`` counts many times faster than int64 on a CPU).

    Returns:
        Tensor: ``(N, N)`` float IoU, ``[i, j]`` of candidate ``i`` of
        ``labels_a`` and ``j`` of ``labels_b`` (0 for two empty masks).
    """
    pairs = labels_a.flatten().int() * num_candidates
    pairs += labels_b.flatten().int()
    joint = torch.bincount(
        pairs, minlength=num_candidates**2).view(num_candidates,
                                                 num_candidates)
    union = joint.sum(1, keepdim=True) + joint.sum(0, keepdim=True) - joint
    return joint.double() / union.clamp(min=1).double()


class TrackLinker:
    """Greedy-in-time, Hungarian-per-frame linking of masks.

    Frame by frame, every open track (seen within the last ``max_gap``
    frames) is compared with every valid mask (candidate) of the frame by
    the affinity

    ``A = (w_iou * IoU + w_emb * max(cos, 0) + w_group * [same group] +
    w_mask * [same mask index]) / (w_iou + w_emb + w_group + w_mask)``

    where IoU is taken with the track's mask in the frame it was last seen,
    ``cos`` between the track's embedding (the normalised sum of its
    candidates' normalised embeddings) and the candidate's, and the last two
    terms compare the track's last candidate with the candidate: the same
    group of masks (SMTC: semantic slot, initialised from the same learnt
    means in every frame, so it tends to persist), the same mask index
    (SMTC's instance slots are drawn around their semantic slot with fresh
    noise, so theirs does not persist; recurrent slots do). The embedding
    term and its weight drop out when no embeddings are given. The
    Hungarian algorithm maximises the total affinity; a matched pair is
    accepted when ``A >= link_threshold``; every other candidate starts a
    new track.

    Args:
        iou_weight (float): ``w_iou``. Defaults to 1.0.
        embedding_weight (float): ``w_emb``. Defaults to 1.0.
        same_group_weight (float): ``w_group``. Defaults to 0.5.
        same_mask_weight (float): ``w_mask``. Defaults to 0.0.
        link_threshold (float): Least affinity of an accepted match, in
            ``[0, 1]``. Defaults to 0.3: without embeddings, a candidate
            of the track's group links even without overlap (the group
            alone scores 1/3) when nothing matches better.
        max_gap (int, optional): A track unseen for more than ``max_gap``
            frames is closed (``1``: only the previous frame); None never
            closes tracks. Defaults to 15.
    """

    def __init__(self,
                 iou_weight: float = 1.0,
                 embedding_weight: float = 1.0,
                 same_group_weight: float = 0.5,
                 same_mask_weight: float = 0.0,
                 link_threshold: float = 0.3,
                 max_gap: Optional[int] = 15) -> None:
        self.weights = dict(
            iou=iou_weight,
            embedding=embedding_weight,
            same_group=same_group_weight,
            same_mask=same_mask_weight)
        for name, weight in self.weights.items():
            if not weight >= 0:
                raise ValueError(f'{name}_weight must be >= 0, got {weight}')
        if not sum(self.weights.values()) > 0:
            raise ValueError('at least one linking weight must be positive')
        if not 0.0 <= link_threshold <= 1.0:
            raise ValueError('link_threshold must be in [0, 1], got '
                             f'{link_threshold}')
        if max_gap is not None and (int(max_gap) != max_gap or max_gap < 1):
            raise ValueError(f'max_gap must be an integer >= 1 or None, got '
                             f'{max_gap!r}')
        self.link_threshold = link_threshold
        self.max_gap = max_gap

    def __call__(self,
                 labels: torch.Tensor,
                 valid: torch.Tensor,
                 groups: torch.Tensor,
                 embeddings: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Link the valid candidates of all frames into tracks.

        Args:
            labels: ``(T, H, W)`` mask of every pixel, ids in ``[0, N)``.
            valid: ``(T, N)`` bool, which masks may join a track.
            groups: ``(N,)`` int64 group of each mask.
            embeddings: Optional ``(T, N, D)`` mask embeddings.

        Returns:
            Tensor: ``(T, N)`` int64 track index of every mask, -1 for
            invalid ones; tracks are numbered in order of their start.
        """
        num_candidates = valid.shape[1]
        tracks = torch.full(valid.shape, -1, dtype=torch.int64)
        state = _TrackState()
        for frame in range(valid.shape[0]):
            candidates = torch.nonzero(valid[frame]).flatten().cpu()
            open_tracks = state.open_tracks(frame, self.max_gap)
            matches = {}
            if open_tracks and len(candidates):
                affinity = self._affinity(labels, frame, candidates,
                                          open_tracks, state, embeddings,
                                          groups, num_candidates)
                rows, cols = linear_sum_assignment(-affinity.numpy())
                matches = {
                    int(candidates[col]): open_tracks[row]
                    for row, col in zip(rows, cols)
                    if affinity[row, col] >= self.link_threshold
                }
            for candidate in candidates.tolist():
                embedding = None if embeddings is None else \
                    embeddings[frame, candidate]
                tracks[frame, candidate] = state.extend(
                    matches.get(candidate), frame, candidate, embedding)
        return tracks

    def _affinity(self, labels: torch.Tensor, frame: int,
                  candidates: torch.Tensor, open_tracks: List[int],
                  state: '_TrackState', embeddings: Optional[torch.Tensor],
                  groups: torch.Tensor,
                  num_candidates: int) -> torch.Tensor:
        """``(A, C)`` float64 affinity of open tracks and candidates (CPU)."""
        previous = torch.tensor(
            [state.last_label[track] for track in open_tracks])
        terms: Dict[str, torch.Tensor] = {}
        if self.weights['iou'] > 0:
            seen = torch.tensor(
                [state.last_frame[track] for track in open_tracks])
            terms['iou'] = self._iou_with_last_masks(
                labels, frame, candidates, seen, previous, num_candidates)
        if self.weights['embedding'] > 0 and embeddings is not None:
            track_emb = F.normalize(
                torch.stack([state.embedding_sum[t] for t in open_tracks]),
                dim=1)
            cand_emb = F.normalize(embeddings[frame, candidates.to(
                embeddings.device)], dim=1)
            terms['embedding'] = (track_emb @ cand_emb.T).clamp(
                min=0).double().cpu()
        groups = groups.cpu()
        terms['same_group'] = (groups[previous][:, None] ==
                               groups[candidates][None]).double()
        terms['same_mask'] = (previous[:, None] == candidates[None]).double()
        total = sum(self.weights[name] for name in terms)
        return sum(self.weights[name] * term
                   for name, term in terms.items()) / total

    @staticmethod
    def _iou_with_last_masks(labels: torch.Tensor, frame: int,
                             candidates: torch.Tensor, seen: torch.Tensor,
                             previous: torch.Tensor,
                             num_candidates: int) -> torch.Tensor:
        """``(A, C)`` IoU of each open track's last mask with each candidate.

        Args:
            seen: ``(A,)`` frame in which each track was last seen.
            previous: ``(A,)`` the track's candidate in that frame.
        """
        iou = torch.zeros(len(seen), len(candidates), dtype=torch.float64)
        for seen_frame in seen.unique().tolist():
            rows = torch.nonzero(seen == seen_frame).flatten()
            pair_iou = pairwise_label_iou(labels[seen_frame], labels[frame],
                                          num_candidates).cpu()
            iou[rows] = pair_iou[previous[rows]][:, candidates]
        return iou


class _TrackState:
    """Per track: last frame, last candidate, sum of unit embeddings."""

    def __init__(self) -> None:
        self.last_frame: List[int] = []
        self.last_label: List[int] = []
        self.embedding_sum: List[torch.Tensor] = []

    def open_tracks(self, frame: int, max_gap: Optional[int]) -> List[int]:
        """Tracks seen within ``max_gap`` frames before ``frame``."""
        return [
            track for track, seen in enumerate(self.last_frame)
            if max_gap is None or frame - seen <= max_gap
        ]

    def extend(self, track: Optional[int], frame: int, candidate: int,
               embedding: Optional[torch.Tensor]) -> int:
        """Add a candidate to ``track`` (None: a new track); its index."""
        if track is None:
            track = len(self.last_frame)
            self.last_frame.append(frame)
            self.last_label.append(candidate)
            if embedding is not None:
                self.embedding_sum.append(torch.zeros_like(embedding))
        self.last_frame[track], self.last_label[track] = frame, candidate
        if embedding is not None:
            self.embedding_sum[track] = self.embedding_sum[track] + \
                F.normalize(embedding, dim=0)
        return track
