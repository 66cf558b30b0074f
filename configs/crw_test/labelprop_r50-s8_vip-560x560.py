# VIP val, 20 classes (background + 19 parts), with a ResNet-50 res3 map at
# stride 8 and the CRW settings: frames resized to 560x560, mIoU over the
# annotated frames.
_base_ = [
    '_base_/labelprop_crw_r50-s8.py', '../_base_/datasets/vip.py',
    '../_base_/test_runtime.py'
]
model = {{_base_.vip_propagation}}
