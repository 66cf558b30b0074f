# DAVIS-2017 val, semi-supervised: SMTC ViT-S/16 tokens interpolated 2x to
# stride 8 (protocol: topk 28, n_context 20, radius 35, temperature 0.2).
_base_ = ['./labelprop_vit-s16_davis17-semi.py']
model = dict(
    propagator=dict(feature_upsample=2, topk=28, radius=35), stride=8)
