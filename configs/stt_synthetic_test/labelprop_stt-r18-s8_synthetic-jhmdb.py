# Synthetic JHMDB keypoints with the tiny Spa-then-Temp student, grid
# rounded up as for JHMDB.
_base_ = [
    '_base_/labelprop_stt_r18-s8_synthetic.py',
    '../_base_/datasets/synthetic_jhmdb.py', '../_base_/test_runtime.py'
]
model = dict(label_type='keypoints', grid_rounding='ceil')
