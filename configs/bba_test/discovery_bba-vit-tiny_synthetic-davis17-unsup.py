# Synthetic DAVIS-2017 unsupervised with the tiny BbA of
# configs/bba/bba_vit-tiny_1xb4-1k_synthetic-64x112.py (test its checkpoint,
# or 'none' for an untrained model): DAVIS J&F and video FG-ARI / mBO.
_base_ = [
    '_base_/discovery_bba_vit-tiny.py',
    '../_base_/datasets/synthetic_davis17_unsup.py',
    '../_base_/test_runtime.py'
]
