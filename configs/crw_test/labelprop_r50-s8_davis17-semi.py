# DAVIS-2017 val, semi-supervised: ResNet-50 res3 at stride 8, CRW settings.
_base_ = [
    '_base_/labelprop_crw_r50-s8.py', '../_base_/datasets/davis17_semi.py',
    '../_base_/test_runtime.py'
]
