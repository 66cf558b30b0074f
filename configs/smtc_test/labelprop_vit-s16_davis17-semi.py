# DAVIS-2017 val, semi-supervised: SMTC ViT-S/16 patch tokens at stride 16.
_base_ = [
    '_base_/labelprop_smtc_vit-s16.py',
    '../_base_/datasets/davis17_semi.py', '../_base_/test_runtime.py'
]
