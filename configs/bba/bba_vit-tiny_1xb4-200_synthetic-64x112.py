# A tiny Betrayed by Attention trained on the synthetic set on a CPU in
# minutes (make the set with `python tools/data/make_synthetic.py
# data/synthetic`): the tiny model of configs/_base_/models/bba_vit-tiny.py
# on 3-frame clips at 64x112, AdamW lr 1e-4 cosine, 200 iterations, batch 4.
# The random frozen encoder stands in for DINO: expect the losses to fall,
# not DINO-quality clusters.
_base_ = [
    '../_base_/models/bba_vit-tiny.py',
    '../_base_/datasets/synthetic_ytvos_clips.py',
    '../_base_/schedules/bba_adamw-cosine_60k.py',
    '../_base_/default_runtime.py'
]
max_iters = 200
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(64, 112)),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        num_frames=3, gap=2, sampling='bba', pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=False,
        begin=0,
        end=max_iters,
        T_max=max_iters)
]
train_cfg = dict(max_iters=max_iters)
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(
    logger=dict(interval=20), checkpoint=dict(interval=100))
