# Synthetic DAVIS-2017 semi-supervised with the tiny Spa-then-Temp student
# (tools/quickstart.py --method stt). Window half-size 2 cells: the official
# 12 cells of the 60-cell-high 480p grid (configs/stt_test/
# labelprop_r18-s8_davis17-semi.py), 12 / 60 * 8 = 1.6 on the 8x14 grid.
_base_ = [
    '_base_/labelprop_stt_r18-s8_synthetic.py',
    '../_base_/datasets/synthetic_davis17_semi.py',
    '../_base_/test_runtime.py'
]
model = dict(propagator=dict(radius=2))
