# The VideoSAUR recipe (official configs/videosaur/*.yml, train.py): Adam
# (torch defaults, no weight decay), lr = batch / 32 * 1e-4 (4e-4 for 128
# clips of 4 frames), linear warm-up over 2500 iterations from 0 then
# exponential decay halving at 100k (stepped every iteration), gradient
# clipping at global L2 norm 0.05, 100k iterations, fp32.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=4e-4, betas=(0.9, 0.999), eps=1e-8),
    clip_grad=dict(max_norm=0.05, norm_type=2))
param_scheduler = [
    dict(
        type='ExpDecayWithWarmupLR',
        warmup_steps=2500,
        decay_steps=100000,
        by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=100000)
# The official lr rule is linear in the batch (base 1e-4 per 32 clips):
# `--auto-scale-lr` reproduces it for another batch size.
auto_scale_lr = dict(enable=False, base_batch_size=128)
