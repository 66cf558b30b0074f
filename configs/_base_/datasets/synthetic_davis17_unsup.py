# Synthetic set (tools/data/make_synthetic.py), DAVIS-2017 layout, unsupervised.
_base_ = ['./davis17_unsup.py']
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root='data/synthetic/DAVIS'))
