# Synthetic DAVIS-2017 semi-supervised with the encoder of the tiny SMTC of
# configs/smtc/smtc_vit-tiny_* (test its checkpoint, or 'none' for the
# untrained one), 64x112 input (tools/quickstart.sh).
_base_ = [
    '_base_/labelprop_smtc_vit-tiny.py',
    '../_base_/datasets/synthetic_davis17_semi.py',
    '../_base_/test_runtime.py'
]
