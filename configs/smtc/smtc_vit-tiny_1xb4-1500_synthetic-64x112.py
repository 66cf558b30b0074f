# A tiny SMTC that learns from scratch on the synthetic set on a laptop CPU
# in minutes (make the set with
# `python tools/data/make_synthetic.py data/synthetic`, or run
# `bash tools/quickstart.sh`, which trains and tests it). No pretrained
# weights: the tiny model of configs/_base_/models/smtc_vit-tiny.py on 64x112
# clips (the set's 128x224 halved, aspect kept: an 8x14 grid where objects
# span 2-3 patches).
# The official recipe's phases, scaled down: the random encoder stays fixed
# for the first 1000 of 1500 iterations (SMTC freezes DINO for 3000 of
# 10000) while neck and head learn, then trains at 0.1x the learning rate
# (official: 0.01x of a 50x smaller rate). Training the random encoder
# from the start at the full rate collapses the slots.
# Other differences from the official recipe, for a few thousand iterations
# from scratch: lr 1e-3 with cosine decay to 0.1x, batch 4, and the model
# base's EMA momentum and view augmentation.
_base_ = [
    '../_base_/models/smtc_vit-tiny.py',
    '../_base_/datasets/synthetic_ytvos_clips.py',
    '../_base_/schedules/smtc_adamw-cosine_10k.py',
    '../_base_/quickstart_runtime.py'
]
max_iters = 1500
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(64, 112)),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(
    optimizer=dict(lr=1e-3), paramwise_cfg=dict(backbone_lr_mult=0.1))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=0.1,
        by_epoch=False,
        begin=0,
        end=max_iters,
        T_max=max_iters)
]
train_cfg = dict(max_iters=max_iters)
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(checkpoint=dict(interval=500))
