# Runtime of the quick-start training configs (tools/quickstart.py): the
# shared runtime plus InitialCheckpointHook, whose iter_0.pth (the weights
# training starts from) is the "untrained" model of the quick start's
# comparison.
_base_ = ['./default_runtime.py']
custom_hooks = [
    dict(type='RNGStateHook'),
    dict(type='InitialCheckpointHook')
]
