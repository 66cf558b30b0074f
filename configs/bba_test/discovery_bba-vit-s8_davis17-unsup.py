# DAVIS-2017 val, unsupervised: J&F of at most 20 discovered objects per
# video (official Hungarian protocol, one assignment per sequence), and
# video FG-ARI / mBO of the same masks (every DAVIS frame is annotated).
_base_ = [
    '_base_/discovery_bba_vit-s8.py', '../_base_/datasets/davis17_unsup.py',
    '../_base_/test_runtime.py'
]
test_evaluator = [
    dict(type='DAVISMetric', task='unsupervised', collect_device='cpu'),
    dict(type='ObjectDiscoveryMetric', collect_device='cpu')
]
