# Spa-then-Temp step 2 with a ResNet-18 student (the released config edits
# the depth; which teacher the authors used for it is not stated: here the
# config's ResNet-50 teacher), started from a step-1 ResNet-18
# (checkpoints/moco_r18.pth).
_base_ = ['./stt_r50-s8_4xb16-44k_ytvos-256x256.py']
model = dict(
    backbone=dict(
        depth=18, init_cfg=dict(checkpoint='checkpoints/moco_r18.pth')))
