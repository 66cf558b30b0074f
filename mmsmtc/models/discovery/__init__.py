"""Object discovery post-processing: per-frame slot masks -> video objects."""
from .background import BACKGROUND_RULES, background_groups
from .candidates import VideoCandidates, extract_candidates
from .inputs import SLOT_FIELDS, DiscoveryInputs, check_discovery_inputs
from .kl_clustering import (cluster_attention_windows,
                            kl_hierarchical_clustering, symmetric_kl)
from .linking import TrackLinker, pairwise_label_iou
from .post_processor import DiscoveredObjects, ObjectDiscoveryPostProcessor
from .selection import rank_tracks, render_id_maps, track_selection_scores
from .single_object import (FOREGROUND_RULES, SingleObjectPostProcessor,
                            foreground_from_tracks,
                            oracle_best_track_foreground)
from .slot_argmax import SlotArgmaxPostProcessor

__all__ = [
    'BACKGROUND_RULES', 'DiscoveredObjects', 'DiscoveryInputs',
    'FOREGROUND_RULES', 'ObjectDiscoveryPostProcessor', 'SLOT_FIELDS',
    'SingleObjectPostProcessor', 'SlotArgmaxPostProcessor', 'TrackLinker',
    'VideoCandidates', 'background_groups', 'check_discovery_inputs',
    'cluster_attention_windows', 'extract_candidates',
    'foreground_from_tracks', 'kl_hierarchical_clustering',
    'oracle_best_track_foreground',
    'pairwise_label_iou', 'rank_tracks', 'render_id_maps',
    'symmetric_kl', 'track_selection_scores'
]
