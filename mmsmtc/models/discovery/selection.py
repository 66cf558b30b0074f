"""Scoring, selecting and rendering video tracks as DAVIS id maps."""
import torch

#: Highest id a uint8 id map can hold.
MAX_UINT8_ID = 255


def track_selection_scores(tracks: torch.Tensor,
                           scores: torch.Tensor,
                           area_fractions: torch.Tensor,
                           area_exponent: float = 0.5) -> torch.Tensor:
    """Selection score of every track.

    ``score = mean(max(instance score, 0)) * (frames present / T) *
    mean(area fraction) ** area_exponent``, means taken over the frames in
    which the track is present: a confident, persistent, large object ranks
    first.

    Args:
        tracks: ``(T, N)`` int64 track of every candidate, -1 for none.
        scores: ``(T, N)`` candidate scores.
        area_fractions: ``(T, N)`` candidate areas over the frame area.
        area_exponent: Weight of the area term (0 ignores areas).

    Returns:
        Tensor: ``(K,)`` float64 scores, ``K = tracks.max() + 1``.
    """
    num_tracks = int(tracks.max()) + 1 if tracks.numel() else 0
    member = tracks >= 0
    track_ids = tracks[member]
    frames = torch.bincount(track_ids, minlength=num_tracks).double()
    score_sum = torch.bincount(
        track_ids,
        weights=scores[member].double().clamp(min=0),
        minlength=num_tracks)
    area_sum = torch.bincount(
        track_ids,
        weights=area_fractions[member].double(),
        minlength=num_tracks)
    frames_clamped = frames.clamp(min=1)
    persistence = frames / tracks.shape[0]
    return (score_sum / frames_clamped) * persistence * \
        (area_sum / frames_clamped)**area_exponent


def rank_tracks(selection_scores: torch.Tensor, track_frames: torch.Tensor,
                max_proposals: int, min_track_frames: int = 1) -> torch.Tensor:
    """Ids ``1..K`` of the kept tracks by descending score, 0 for the rest.

    Args:
        selection_scores: ``(K,)`` track scores.
        track_frames: ``(K,)`` frames in which each track is present.
        max_proposals: Most tracks kept.
        min_track_frames: Tracks present in fewer frames are dropped.

    Returns:
        Tensor: ``(K,)`` int64 id of each track (ties keep track order).
    """
    order = torch.sort(selection_scores, descending=True, stable=True).indices
    order = order[track_frames[order] >= min_track_frames][:max_proposals]
    ids = torch.zeros_like(selection_scores, dtype=torch.int64)
    ids[order] = torch.arange(1, len(order) + 1, device=ids.device)
    return ids


def render_id_maps(labels: torch.Tensor, tracks: torch.Tensor,
                   track_ids: torch.Tensor) -> torch.Tensor:
    """Per-frame id maps: each pixel takes the id of its candidate's track.

    Args:
        labels: ``(T, H, W)`` candidate of every pixel, ids in ``[0, N)``.
        tracks: ``(T, N)`` int64 track of every candidate, -1 for none.
        track_ids: ``(K,)`` int64 output id of each track (0 drops it), at
            most 255.

    Returns:
        Tensor: ``(T, H, W)`` uint8 ids, 0 the background; no two objects
        share a pixel since every pixel has one candidate.
    """
    tracks, track_ids = tracks.cpu(), track_ids.cpu()
    lookup = torch.zeros(tracks.shape, dtype=torch.uint8)
    member = tracks >= 0
    lookup[member] = track_ids[tracks[member]].to(torch.uint8)
    lookup = lookup.to(labels.device)
    id_maps = torch.empty(labels.shape, dtype=torch.uint8,
                          device=labels.device)
    for frame in range(labels.shape[0]):
        id_maps[frame] = lookup[frame][labels[frame].long()]
    return id_maps
