# A tiny SMTC that learns from scratch on the synthetic set on a laptop CPU
# in minutes (make the set with `python tools/data/make_synthetic.py
# data/synthetic`). No pretrained weights: a 2-block ViT with 8x8 patches on
# 64x112 clips (the set's 128x224 halved, aspect kept: an 8x14 grid where
# objects span 2-3 patches), 6 slots x 2 instances.
# Differences from the official recipe, all for training from scratch in
# a few hundred iterations:
# - the encoder trains at the full lr (backbone_lr_mult=1.0) after a short
#   10-iteration warm-up of neck and head (grad_iter);
# - EMA momentum 0.99 (0.999 would leave the teacher at its random start);
# - milder view augmentation: the synthetic objects differ mainly by
#   colour, so no grey-scale or hue jitter, and no blur on 8-pixel patches.
_base_ = [
    '../_base_/models/smtc_vit-tiny.py',
    '../_base_/datasets/synthetic_ytvos_clips.py',
    '../_base_/schedules/smtc_adamw-cosine_10k.py',
    '../_base_/default_runtime.py'
]
max_iters = 400
model = dict(
    view_augment=dict(
        type='ClipPhotometricAugment',
        grayscale_prob=0.0,
        jitter=(0.2, 0.2, 0.2, 0.0),
        blur_prob=0.0))
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(64, 112)),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(
    optimizer=dict(lr=1e-3), paramwise_cfg=dict(backbone_lr_mult=1.0))
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
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=100))
model_wrapper_cfg = dict(find_unused_parameters=True)
