# Synthetic DAVIS-2017 semi-supervised with the tiny Spa-then-Temp student
# (tools/quickstart.py --method stt).
_base_ = [
    '_base_/labelprop_stt_r18-s8_synthetic.py',
    '../_base_/datasets/synthetic_davis17_semi.py',
    '../_base_/test_runtime.py'
]
