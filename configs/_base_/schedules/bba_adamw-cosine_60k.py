# The official Betrayed-by-Attention schedule (start_rgb.sh): AdamW (0.9,
# 0.999) at lr 1e-5, cosine-annealed per iteration to 1e-6 over 60k
# iterations, no warm-up; weight decay 0.1 on weight matrices, none on biases
# and norms (the official 0.04 set first is overwritten by its constant 0.1
# schedule). The backbone is frozen, so its parameter groups are moot.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-5, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.1),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-6,
        by_epoch=False,
        begin=0,
        end=60000,
        T_max=60000)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=60000)
# 8 GPUs x 1 clip; the official recipe does not rescale the lr.
auto_scale_lr = dict(enable=False, base_batch_size=8)
