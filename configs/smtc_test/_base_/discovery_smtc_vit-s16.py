# Object discovery with SMTC on DINO ViT-S/16: clips of 4 frames (the
# official evaluation split), slot masks -> the object-discovery
# post-processor (discovery_post_processor.py).
_base_ = ['../../_base_/models/smtc_vit-s16.py', './discovery_post_processor.py']
_smtc = {{_base_.model}}  # its data_preprocessor is unused
model = dict(
    _delete_=True,
    type='ObjectDiscoverySegmentor',
    data_preprocessor=dict(type='VideoDataPreprocessor'),
    smtc=_smtc,
    post_processor={{_base_.discovery_post_processor}},
    input_size=None,
    size_multiple=16,
    checkpoint_branch='student')
