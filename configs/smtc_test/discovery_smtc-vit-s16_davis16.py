# DAVIS-2016 val, single-object discovery: J (mean over videos).
_base_ = [
    '_base_/discovery_single_smtc_vit-s16.py', '../_base_/datasets/davis16.py',
    '../_base_/test_runtime.py'
]
