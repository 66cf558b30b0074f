# The official SMTC relaxed schedule: AdamW, lr cosine-annealed to 0.1x over
# 10k iterations (per parameter group), the encoder frozen for the model's
# `frozen_backbone_iters` iterations (set by the leaf config: a model key
# cannot live in two bases) and then trained at 0.01x the lr. Four parameter
# groups as the official `get_params_groups`: encoder / rest x decay / no
# decay (biases and 1-D parameters). Weight decay 0.1 on the decay groups:
# the official 0.04 on group 0 is overwritten by its constant 0.1 wd schedule
# before step 1.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='BackboneLrMultOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=2e-5, betas=(0.9, 0.999), eps=1e-8,
        weight_decay=0.1),
    paramwise_cfg=dict(backbone_lr_mult=0.01))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=0.1,
        by_epoch=False,
        begin=0,
        end=10000,
        T_max=10000)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=10000)
# 4 GPUs x 32 clips; the official recipe does not rescale the lr.
auto_scale_lr = dict(enable=False, base_batch_size=128)
