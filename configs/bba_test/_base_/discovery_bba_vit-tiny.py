# Object discovery with the tiny synthetic BbA of
# configs/_base_/models/bba_vit-tiny.py on its training input size (64x112,
# 8x8 patches, ImageNet normalisation) and with the post-processor of the
# DINO configs.
_base_ = [
    '../../_base_/models/bba_vit-tiny.py', './discovery_post_processor.py'
]
model = dict(
    _delete_=True,
    type='ObjectDiscoverySegmentor',
    model={{_base_.model}},  # its data_preprocessor is unused
    post_processor={{_base_.discovery_post_processor}},
    input_size=(64, 112),
    size_multiple=8)
