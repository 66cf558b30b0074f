# Synthetic VIP parts with the tiny Spa-then-Temp student, as
# configs/stt_test/labelprop_r18-s8_vip-560x560.py: one-hot labels of the
# ids present, min-max read-out; mIoU as VFS's (protocol='vfs': every frame,
# frame 0 included, mmseg's counting); 20 classes as VIP. Window
# half-size 2 cells: the official 16 cells of the 70-cell-high 560x560 grid,
# 16 / 70 * 8 = 1.8 on the 8x14 grid.
_base_ = [
    '_base_/labelprop_stt_r18-s8_synthetic.py',
    '../_base_/datasets/synthetic_vip.py', '../_base_/test_runtime.py'
]
model = dict(
    propagator=dict(radius=2),
    label_type='classes',
    num_classes={{_base_.vip_num_classes}})
test_evaluator = dict(protocol='vfs')
