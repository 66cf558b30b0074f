# Synthetic VIP parts with the tiny Spa-then-Temp student, 20 classes as VIP.
_base_ = [
    '_base_/labelprop_stt_r18-s8_synthetic.py',
    '../_base_/datasets/synthetic_vip.py', '../_base_/test_runtime.py'
]
model = dict(label_type='classes', num_classes={{_base_.vip_num_classes}})
