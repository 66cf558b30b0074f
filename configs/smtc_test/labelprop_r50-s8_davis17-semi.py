# DAVIS-2017 val, semi-supervised: ResNet-50 res3 at stride 8, CRW settings.
_base_ = [
    '_base_/labelprop_crw_r50.py', '../_base_/datasets/davis17_semi.py',
    '_base_/test_runtime.py'
]
test_evaluator = dict(
    type='DAVISMetric', task='semi-supervised', collect_device='cpu')
