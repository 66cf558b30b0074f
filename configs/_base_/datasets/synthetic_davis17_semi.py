# Synthetic set (tools/data/make_synthetic.py), DAVIS-2017 layout, semi-supervised.
_base_ = ['./davis17_semi.py']
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root='data/synthetic/DAVIS'))
