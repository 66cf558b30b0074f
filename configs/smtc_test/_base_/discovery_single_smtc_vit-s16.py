# Single-object discovery with SMTC on DINO ViT-S/16 (DAVIS-2016,
# SegTrack-v2, FBMS-59): the union of the discovered objects is the
# foreground (no annotation used).
_base_ = ['./discovery_smtc_vit-s16.py']
model = dict(
    post_processor=dict(
        _delete_=True,
        type='SingleObjectPostProcessor',
        discovery={{_base_.discovery_post_processor}},
        rule='union'))
