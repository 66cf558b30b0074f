# A tiny VideoSAUR (configs/_base_/models/videosaur_vit-tiny.py) for a CPU
# quick start on the synthetic set (`python tools/data/make_synthetic.py
# data/synthetic`): 4 consecutive frames per clip (the official chunks) at
# 64x64, the official recipe's schedule shape (Adam, warm-up then
# exponential decay, clipping 0.05) scaled down to 2000 iterations of 4
# clips at lr 1e-3.
_base_ = [
    '../_base_/models/videosaur_vit-tiny.py',
    '../_base_/datasets/synthetic_ytvos_clips.py',
    '../_base_/schedules/videosaur_adam-expdecay_100k.py',
    '../_base_/quickstart_runtime.py'
]
max_iters = 2000
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(64, 64)),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=4, dataset=dict(gap=1, pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(
        type='ExpDecayWithWarmupLR',
        warmup_steps=100,
        decay_steps=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters)
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(checkpoint=dict(interval=500))
