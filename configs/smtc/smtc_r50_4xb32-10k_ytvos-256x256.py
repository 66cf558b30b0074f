# The relaxed SMTC recipe of smtc_vit-s16_4xb32-10k_ytvos-256x256.py with a
# DINO ResNet-50: res4 (layer3, 1024 channels, stride 16, i.e. the same 16x16
# grid at 256x256); neck and head follow the channel count.
_base_ = ['./smtc_vit-s16_4xb32-10k_ytvos-256x256.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=50,
        out_indices=(2, ),
        output_stride=16,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dino_r50.pth')),
    neck=dict(in_channels=1024),
    head=dict(in_channels=1024))
