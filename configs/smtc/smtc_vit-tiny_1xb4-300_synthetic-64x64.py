# A tiny SMTC that trains from scratch on the synthetic set on a laptop CPU
# in minutes (make it with `python tools/data/make_synthetic.py
# data/synthetic`): a 2-block ViT with 8x8 patches on 64x64 clips (an 8x8
# grid), 4 slots x 2 instances, the encoder frozen for 50 iterations and
# then trained at 0.1x the lr.
_base_ = [
    '../_base_/models/smtc_vit-s16.py',
    '../_base_/datasets/synthetic_ytvos_clips.py',
    '../_base_/schedules/smtc_adamw-cosine_10k.py',
    '../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True, patch_size=8, embed_dim=64, depth=2, num_heads=2),
        pretrain_img_size=64,
        drop_path_rate=0.0,
        init_cfg=None),
    neck=dict(in_channels=64, grid_size=8),
    head=dict(in_channels=64, num_slots=4, num_instances=2),
    grad_iter=50,
    view_augment=dict(type='ClipPhotometricAugment'))
# Photometric augmentation is drawn per branch in the model (view_augment).
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(64, 64)),
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
        end=300,
        T_max=300)
]
train_cfg = dict(max_iters=300)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=100))
model_wrapper_cfg = dict(find_unused_parameters=True)
