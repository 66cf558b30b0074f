# Synthetic set (tools/data/make_synthetic.py), DAVIS-2017 layout,
# unsupervised: DAVIS J&F (official Hungarian protocol) and video FG-ARI /
# mBO of the same discovered masks (every frame is annotated).
_base_ = ['./davis17_unsup.py']
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root='data/synthetic/DAVIS'))
test_evaluator = [
    dict(type='DAVISMetric', task='unsupervised', collect_device='cpu'),
    dict(type='ObjectDiscoveryMetric', collect_device='cpu')
]
