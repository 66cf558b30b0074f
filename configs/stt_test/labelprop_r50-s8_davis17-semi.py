# DAVIS-2017 val, semi-supervised, with Spa-then-Temp's ResNet-50 at
# stride 8 (official configs/test/res50_d8.py, neighbor_range
# 24): frames at their size (480p), PIL-nearest labels,
# min-max read-out. Model zoo (the authors' number, not reproduced here):
# J&F 71.2.
_base_ = [
    '_base_/labelprop_stt_r18-s8.py', '../_base_/datasets/davis17_semi.py',
    '../_base_/test_runtime.py'
]
model = dict(
    propagator=dict(
        backbone=dict(
            depth=50,
            init_cfg=dict(checkpoint='checkpoints/stt_r50-s8.pth')),
        radius=12),
)
