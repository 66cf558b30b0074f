# VIP parts with ResNet-18 res3 at stride 8 (CRW's encoder) and the
# settings of labelprop_r50-s8_vip-560x560.py.
_base_ = ['./labelprop_r50-s8_vip-560x560.py']
model = dict(
    propagator=dict(
        backbone=dict(
            depth=18,
            init_cfg=dict(checkpoint='checkpoints/resnet18.pth'))))
