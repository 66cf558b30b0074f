# VIP val, 20 classes (background + 19 parts): frames resized to 560x560,
# stride-8 grid, mIoU over the annotated frames. The protocol states no
# SMTC settings for VIP; these are its stride-8 DAVIS settings.
_base_ = [
    '_base_/labelprop_smtc_vit-s16-up2.py', '../_base_/datasets/vip.py',
    '../_base_/test_runtime.py'
]
model = {{_base_.vip_propagation}}
