# The object-discovery post-processor of every SMTC discovery config
# (docs/object_discovery.md): at most 20 objects, instance score >= 0.5 (the
# official filter), the semantic slot owning most of the frame border is
# background.
discovery_post_processor = dict(
    type='ObjectDiscoveryPostProcessor',
    max_proposals=20,
    score_threshold=0.5,
    min_area=0.001,
    background_rule='border',
    num_background_groups=1)
