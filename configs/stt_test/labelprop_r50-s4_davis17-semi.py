# DAVIS-2017 val, semi-supervised, with Spa-then-Temp's ResNet-50 at
# stride 4 (official configs/test/res50_d4.py, neighbor_range
# 70): frames at their size (480p), PIL-nearest labels,
# min-max read-out. Model zoo (the authors' number, not reproduced here):
# J&F 74.1.
_base_ = [
    '_base_/labelprop_stt_r18-s4.py', '../_base_/datasets/davis17_semi.py',
    '../_base_/test_runtime.py'
]
model = dict(
    propagator=dict(
        backbone=dict(
            depth=50,
            init_cfg=dict(checkpoint='checkpoints/stt_r50-s4.pth')),
        radius=35),
)
