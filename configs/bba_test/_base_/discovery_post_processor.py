# The object-discovery post-processor of every BbA discovery config
# (docs/object_discovery.md, "Betrayed by Attention"). The clusters are
# video-level (cluster k is the same object in every frame), so linking
# keeps the cluster index (only the same-mask term, affinity 1 or 0, tracks
# never closed) instead of re-linking by overlap. Selection rule: the cluster
# owning most frame-border pixels over the video is background; the others
# (every cluster is a proposal, K is not bounded by the clustering) are
# ranked by persistence x sqrt(mean area) (no score: all 1) and the best 20
# get ids 1..20, the DAVIS-2017-unsupervised limit. No size filter (as
# officially), and nearest upsampling of the one-hot masks to the frame size
# (the official evaluator's F.interpolate default).
discovery_post_processor = dict(
    type='ObjectDiscoveryPostProcessor',
    max_proposals=20,
    score_threshold=0.5,
    min_area=0.0,
    background_rule='border',
    num_background_groups=1,
    iou_weight=0.0,
    embedding_weight=0.0,
    same_group_weight=0.0,
    same_mask_weight=1.0,
    link_threshold=1.0,
    max_gap=None,
    upsample_mode='nearest')
