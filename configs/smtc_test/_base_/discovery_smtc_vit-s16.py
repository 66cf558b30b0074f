# Object discovery with SMTC on DINO ViT-S/16: clips of 4 frames (the
# official evaluation split), slot masks -> the object-discovery
# post-processor (at most 20 objects, instance score >= 0.5).
_base_ = ['../../_base_/models/smtc_vit-s16.py']
_smtc = {{_base_.model}}  # its data_preprocessor is unused
model = dict(
    _delete_=True,
    type='ObjectDiscoverySegmentor',
    data_preprocessor=dict(type='VideoDataPreprocessor'),
    smtc=_smtc,
    post_processor=dict(
        type='ObjectDiscoveryPostProcessor',
        max_proposals=20,
        score_threshold=0.5,
        min_area=0.001,
        background_rule='border',
        num_background_slots=1),
    input_size=None,
    size_multiple=16,
    checkpoint_branch='student')
