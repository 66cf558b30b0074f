# The SMTC ViT-S/16 encoder of labelprop_smtc_vit-s16.py with its tokens
# interpolated 2x to stride 8 (protocol: topk 28, n_context 20, radius 35,
# temperature 0.2).
_base_ = ['./labelprop_smtc_vit-s16.py']
model = dict(
    propagator=dict(feature_upsample=2, topk=28, radius=35), stride=8)
