# Spa-then-Temp step 2's schedule: Adam lr 5e-5 (betas 0.9, 0.999, no weight
# decay) for 44,000 iterations (800 epochs of 55 iterations at 4 x 16 clips),
# cosine by iteration to 0.001x, linear warm-up over the first 1,100
# iterations (20 epochs) from 0.001x, the two multiplied as mmcv's
# CosineAnnealing + linear warm-up.
max_iters = 44000
warmup_iters = 1100
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-5, betas=(0.9, 0.999),
                   weight_decay=0.0))
param_scheduler = [
    # MMEngine's LinearLR reaches its end factor at step end - 1, mmcv's
    # warm-up at step warmup_iters: end = warmup_iters + 1
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=warmup_iters + 1),
    dict(type='CosineAnnealingLR', eta_min_ratio=0.001, by_epoch=False,
         begin=0, end=max_iters, T_max=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
# 4 GPUs x 16 clips; the official recipe does not rescale the lr.
auto_scale_lr = dict(enable=False, base_batch_size=64)
