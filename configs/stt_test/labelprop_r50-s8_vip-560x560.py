# VIP val parts (20 classes) with Spa-then-Temp's ResNet-50 at stride 8
# (official configs/test/res50_d8.py, neighbor_range 32):
# frames resized to 560x560, PIL-nearest labels, min-max read-out; mIoU as
# VFS's vip_evaluate (protocol='vfs': every frame, frame 0 included, against
# the annotation at its position, mmseg's histogram counting; see
# docs/label_propagation.md). Model zoo (the authors' number, not reproduced
# here): mIoU 42.2.
_base_ = [
    '_base_/labelprop_stt_r18-s8.py', '../_base_/datasets/vip.py',
    '../_base_/test_runtime.py'
]
model = dict(
    propagator=dict(
        backbone=dict(
            depth=50,
            init_cfg=dict(checkpoint='checkpoints/stt_r50-s8.pth')),
        radius=16),
    label_type='classes',
    num_classes={{_base_.vip_num_classes}},
    input_size=(560, 560))
test_evaluator = dict(protocol='vfs')
