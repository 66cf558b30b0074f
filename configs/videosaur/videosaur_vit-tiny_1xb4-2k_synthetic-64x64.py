# A tiny VideoSAUR (configs/_base_/models/videosaur_vit-tiny.py) for a CPU
# quick start: the official recipe's schedule shape (warm-up then
# exponential decay, Adam, clipping 0.05) scaled down to 2000 iterations of
# 4 clips at lr 1e-3. The synthetic dataset base is wired by the data branch.
_base_ = [
    '../_base_/models/videosaur_vit-tiny.py',
    '../_base_/schedules/videosaur_adam-expdecay_100k.py',
    '../_base_/default_runtime.py'
]
max_iters = 2000
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
