# JHMDB split 1 keypoints with a ResNet-50 res3 map at stride 8 and the CRW
# settings (topk 10, n_context 20, radius 12, temperature 0.05): frames
# resized to 320x320, stride-8 grid (ceil), Gaussian joint maps (sigma 0.5
# cells), top-3 read-out, PCK.
_base_ = [
    '_base_/labelprop_crw_r50-s8.py', '../_base_/datasets/jhmdb.py',
    '../_base_/test_runtime.py'
]
model = {{_base_.jhmdb_propagation}}
