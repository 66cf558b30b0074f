# JHMDB split 1 keypoints: frames resized to 320x320, stride-8 grid
# (ceil), Gaussian joint maps (sigma 0.5 cells), top-3 read-out, PCK.
# The protocol states no SMTC settings for JHMDB; these are its stride-8
# (2x interpolated) DAVIS settings, all overridable.
_base_ = [
    '_base_/labelprop_smtc_vit-s16.py', '../_base_/datasets/jhmdb.py',
    '_base_/test_runtime.py'
]
model = dict(
    propagator=dict(feature_upsample=2, topk=28, radius=35),
    stride=8,
    label_type='keypoints',
    input_size=(320, 320),
    grid_rounding='ceil',
    keypoint_topk=3)
test_evaluator = dict(
    type='PCKMetric', alphas=(0.1, 0.2, 0.3, 0.4, 0.5), collect_device='cpu')
