# Step 1 (spatial) of the tiny Spa-then-Temp of tools/quickstart.py --method
# stt: MoCo v2 with a ResNet-18 from scratch on frames of the synthetic set
# (tools/data/make_synthetic.py; YouTube-VOS layout, one random frame per
# video and draw), two 64x64 views per frame, on a CPU in minutes.
# Differences from the official recipe, for a few hundred iterations from
# scratch: batch 16, a queue of 1024 keys, momentum 0.99 (0.999 would leave
# the key encoder at its random start), lr 0.06 cosine over 200 iterations,
# no blur (64-pixel views). Convert the result with
# tools/model_converters/moco_to_mmsmtc.py for step 2
# (configs/stt/stt_r18-s8_*_synthetic-*.py). 200 iterations rather than
# 400 halve its time for the same start of step 2 (the quick start's
# trained semi J&F 46.4 after 200 + 150 step-2 iterations, 44.4 after
# 400 + 300).
_base_ = [
    '../_base_/models/moco-v2_r50.py', '../_base_/quickstart_runtime.py'
]
max_iters = 200
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=512, hidden_channels=512),
    queue_size=1024,
    teacher=dict(momentum=0.99),
    view_augment=dict(blur_prob=0.0))
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(
        type='FrameViews',
        crop=dict(size=(64, 64), scale=(0.2, 1.0)),
        flip_prob=0.5,
        num_views=2),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='YTVOSClipDataset',
        data_root='data/synthetic/YTVOS',
        num_frames=1,
        gap=1,
        pipeline=train_pipeline))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.06, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=0,
         end=max_iters, T_max=max_iters)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
