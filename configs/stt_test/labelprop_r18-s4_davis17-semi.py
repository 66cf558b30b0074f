# DAVIS-2017 val, semi-supervised, with Spa-then-Temp's ResNet-18 at
# stride 4 (official configs/test/res18_d4.py, neighbor_range
# 70): frames at their size (480p), PIL-nearest labels,
# min-max read-out. Model zoo (the authors' number, not reproduced here):
# J&F 73.5.
_base_ = [
    '_base_/labelprop_stt_r18-s4.py', '../_base_/datasets/davis17_semi.py',
    '../_base_/test_runtime.py'
]
model = dict(
    propagator=dict(
        radius=35),
)
