# Runtime settings shared by every mmsmtc config.
default_scope = 'mmsmtc'

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000,
                    max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# Generator states travel with checkpoints so that --resume replays the
# uninterrupted run's random draws (instance-slot noise, view augmentation).
custom_hooks = [dict(type='RNGStateHook')]

vis_backends = [dict(type='LocalVisBackend')]
# No fixed `name`: the runner names the visualizer after its run, so two runs
# in one process (a notebook, a test session) each write to their own
# work directory instead of sharing the first run's instance.
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_processor = dict(by_epoch=False, window_size=50)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
