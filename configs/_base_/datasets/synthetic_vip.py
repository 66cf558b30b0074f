# Synthetic set (tools/data/make_synthetic.py), VIP layout.
_base_ = ['./vip.py']
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root='data/synthetic/VIP'))
