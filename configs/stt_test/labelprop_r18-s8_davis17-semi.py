# DAVIS-2017 val, semi-supervised, with Spa-then-Temp's ResNet-18 at
# stride 8 (official configs/test/res18_d8.py, neighbor_range
# 24): frames at their size (480p), PIL-nearest labels,
# min-max read-out. Model zoo (the authors' number, not reproduced here):
# J&F 70.7.
_base_ = [
    '_base_/labelprop_stt_r18-s8.py', '../_base_/datasets/davis17_semi.py',
    '../_base_/test_runtime.py'
]
model = dict(
    propagator=dict(
        radius=12),
)
