# Step 2 (temporal) of the tiny Spa-then-Temp of tools/quickstart.py
# --method stt on the synthetic set (tools/data/make_synthetic.py), on a CPU
# in minutes. As officially, wide crops (width/height 1.5-2) are squashed to
# a square, here 64x64; the tests run at 64x112 (the set's 128x224 halved),
# as the official ones at 480p. Student and
# teacher start from the tiny step 1
# (configs/moco/moco-v2_r18_1xb16-200_synthetic-64x64.py converted by
# tools/model_converters/moco_to_mmsmtc.py to
# checkpoints/moco_r18_synthetic.pth; the quickstart passes its own file).
# The official model with a ResNet-18 student (maps 16x16, 8x8, 2x2) and a
# standard ResNet-18 teacher (the one step-1 model here), windows of +-4 and
# +-2 cells (+-16 pixels; officially +-48 on 256x256); batch 4, Adam lr
# 1e-4 with 30 warm-up iterations and cosine over 150 (after 200 step-1
# iterations; 300 after 400 propagated no better on the synthetic set).
_base_ = [
    '../_base_/models/stt_r50.py', '../_base_/datasets/ytvos_stt_pairs.py',
    '../_base_/schedules/stt_adam-cosine_44k.py',
    '../_base_/quickstart_runtime.py'
]
pretrained = 'checkpoints/moco_r18_synthetic.pth'
max_iters = 150
warmup_iters = 30
model = dict(
    backbone=dict(depth=18, init_cfg=dict(checkpoint=pretrained)),
    teacher_backbone=dict(depth=18, init_cfg=dict(checkpoint=pretrained)),
    radius=(4, 2))
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(
        type='ClipRandomResizedCrop',
        size=(64, 64),
        scale=(0.6, 1.0),
        ratio=(1.5, 2.0),
        max_attempts=20,
        fallback='centre_square'),
    dict(type='ClipRandomFlip', prob=0.5),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root='data/synthetic/YTVOS', pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    # MMEngine's LinearLR reaches its end factor at step end - 1, mmcv's
    # warm-up at step warmup_iters: end = warmup_iters + 1
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=warmup_iters + 1),
    dict(type='CosineAnnealingLR', eta_min_ratio=0.001, by_epoch=False,
         begin=0, end=max_iters, T_max=max_iters),
]
train_cfg = dict(max_iters=max_iters)
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(checkpoint=dict(interval=max_iters))
