# JHMDB split 1 keypoints: frames resized to 320x320, stride-8 grid
# (ceil), Gaussian joint maps (sigma 0.5 cells), top-3 read-out, PCK.
# The protocol states no SMTC settings for JHMDB; these are its stride-8
# (2x interpolated) DAVIS settings, all overridable.
_base_ = [
    '_base_/labelprop_smtc_vit-s16-up2.py', '../_base_/datasets/jhmdb.py',
    '../_base_/test_runtime.py'
]
model = {{_base_.jhmdb_propagation}}
