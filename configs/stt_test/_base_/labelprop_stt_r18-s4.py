# Spa-then-Temp's ResNet-18 at stride 4 (configs/test/res18_d4.py): the stem
# max-pool replaced by a 3x3 / 2 average pool, stage strides (1, 1, 1),
# layer3 map, no dilation; otherwise as the stride-8 base.
_base_ = ['./labelprop_stt_r18-s8.py']
model = dict(
    propagator=dict(
        backbone=dict(
            stem_pool='avg',
            stage_strides=(1, 1, 1),
            init_cfg=dict(checkpoint='checkpoints/stt_r18-s4.pth'))),
    stride=4)
