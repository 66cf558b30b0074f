# The DINOSAUR COCO recipe (official configs/dinosaur/coco_base14_dinov2.yml):
# Adam, lr = batch / 32 * 2e-4 (4e-4 for 64 images), linear warm-up over
# 10k iterations then exponential decay halving every 90k iterations
# (factor 0.5 at 100k), gradient clipping at 1.0, 500k iterations.
_base_ = ['./videosaur_adam-expdecay_100k.py']
optim_wrapper = dict(clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(
        type='ExpDecayWithWarmupLR',
        warmup_steps=10000,
        decay_steps=100000,
        by_epoch=False)
]
train_cfg = dict(max_iters=500000)
auto_scale_lr = dict(base_batch_size=64)
