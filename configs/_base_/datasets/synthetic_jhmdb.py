# Synthetic set (tools/data/make_synthetic.py), JHMDB layout (fewer joints
# than 15, small frames: PCK@0.1 and 0.2).
_base_ = ['./jhmdb.py']
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root='data/synthetic/JHMDB'))
test_evaluator = dict(alphas=(0.1, 0.2))
