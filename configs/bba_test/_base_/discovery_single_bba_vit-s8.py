# Single-object discovery with Betrayed by Attention on DINO ViT-S/8
# (DAVIS-2016, SegTrack-v2, FBMS-59): the union of the discovered objects
# (all clusters but the border one, at most 20) is the foreground; no
# annotation used.
_base_ = ['./discovery_bba_vit-s8.py']
model = dict(
    post_processor=dict(
        _delete_=True,
        type='SingleObjectPostProcessor',
        discovery={{_base_.discovery_post_processor}},
        rule='union'))
