# Object discovery with SMTC on DINO ViT-S/16: clips of 4 frames (the
# official evaluation split), slot masks -> the object-discovery
# post-processor (discovery_post_processor.py).
_base_ = [
    '../../_base_/models/smtc_vit-s16.py', './discovery_post_processor.py'
]
model = dict(
    _delete_=True,
    type='ObjectDiscoverySegmentor',
    model={{_base_.model}},  # its data_preprocessor is unused
    post_processor={{_base_.discovery_post_processor}},
    size_multiple=16)
