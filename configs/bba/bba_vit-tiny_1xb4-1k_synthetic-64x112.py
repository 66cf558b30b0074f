# A tiny Betrayed by Attention trained on the synthetic set on a CPU in
# minutes (`python tools/quickstart.py --method bba`, or make the set with
# `python tools/data/make_synthetic.py data/synthetic`): the tiny model of
# configs/_base_/models/bba_vit-tiny.py on 3-frame clips at 64x112, AdamW
# lr 1e-3 with cosine decay to 1e-4, 1000 iterations, batch 4.
# The encoder is the random tiny ViT, frozen (DINO in the official model):
# its last-block keys already separate the synthetic objects by colour, and
# the trained block learns to attend within an object. At the official
# rate (1e-4 here, 1e-5 officially) or for 200 iterations the block's
# attention stays flat and the clustering (tau 1.0) finds one cluster per
# video (J&F 0).
# iter_0.pth (InitialCheckpointHook) is the untrained model of
# tools/quickstart.py's comparison: the same random frozen encoder and the
# block at its random initialisation.
_base_ = [
    '../_base_/models/bba_vit-tiny.py',
    '../_base_/datasets/synthetic_ytvos_clips.py',
    '../_base_/schedules/bba_adamw-cosine_60k.py',
    '../_base_/quickstart_runtime.py'
]
max_iters = 1000
lr = 1e-3
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(64, 112)),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        num_frames=3, gap=2, sampling='bba', pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=lr * 0.1,
        by_epoch=False,
        begin=0,
        end=max_iters,
        T_max=max_iters)
]
train_cfg = dict(max_iters=max_iters)
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(checkpoint=dict(interval=500))
