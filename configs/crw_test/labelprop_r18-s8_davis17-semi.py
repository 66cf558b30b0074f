# DAVIS-2017 val, semi-supervised: ResNet-18 res3 at stride 8 (CRW's
# encoder), CRW settings.
_base_ = ['./labelprop_r50-s8_davis17-semi.py']
model = dict(
    propagator=dict(
        backbone=dict(
            depth=18,
            init_cfg=dict(checkpoint='checkpoints/resnet18.pth'))))
