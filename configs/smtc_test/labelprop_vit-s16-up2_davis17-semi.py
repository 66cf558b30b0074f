# DAVIS-2017 val, semi-supervised: SMTC ViT-S/16 tokens interpolated 2x to
# stride 8.
_base_ = [
    '_base_/labelprop_smtc_vit-s16-up2.py',
    '../_base_/datasets/davis17_semi.py', '../_base_/test_runtime.py'
]
