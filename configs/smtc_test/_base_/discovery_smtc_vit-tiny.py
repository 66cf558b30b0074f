# Object discovery with the tiny synthetic SMTC of
# configs/_base_/models/smtc_vit-tiny.py, on its training input size
# (64x112, 8x8 patches) and with the post-processor of the DINO configs.
_base_ = [
    '../../_base_/models/smtc_vit-tiny.py', './discovery_post_processor.py'
]
_smtc = {{_base_.model}}  # its data_preprocessor is unused
model = dict(
    _delete_=True,
    type='ObjectDiscoverySegmentor',
    data_preprocessor=dict(type='VideoDataPreprocessor'),
    smtc=_smtc,
    post_processor={{_base_.discovery_post_processor}},
    input_size=(64, 112),
    size_multiple=8,
    checkpoint_branch='student')
