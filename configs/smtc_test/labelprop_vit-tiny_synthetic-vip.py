# Synthetic VIP parts with the encoder of the tiny SMTC of
# configs/smtc/smtc_vit-tiny_* (test its checkpoint, or 'none'), 64x112
# input, 20 classes as VIP.
_base_ = [
    '_base_/labelprop_smtc_vit-tiny.py',
    '../_base_/datasets/synthetic_vip.py', '../_base_/test_runtime.py'
]
model = dict(label_type='classes', num_classes={{_base_.vip_num_classes}})
