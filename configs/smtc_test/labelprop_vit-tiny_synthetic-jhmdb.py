# Synthetic JHMDB keypoints with the encoder of the tiny SMTC of
# configs/smtc/smtc_vit-tiny_* (test its checkpoint, or 'none'), 64x112
# input, grid rounded up as for JHMDB.
_base_ = [
    '_base_/labelprop_smtc_vit-tiny.py',
    '../_base_/datasets/synthetic_jhmdb.py', '../_base_/test_runtime.py'
]
model = dict(label_type='keypoints', grid_rounding='ceil')
