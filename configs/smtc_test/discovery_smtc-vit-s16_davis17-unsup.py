# DAVIS-2017 val, unsupervised: at most 20 discovered objects per video.
_base_ = [
    '_base_/discovery_smtc_vit-s16.py',
    '../_base_/datasets/davis17_unsup.py', '../_base_/test_runtime.py'
]
