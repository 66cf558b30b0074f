# Synthetic DAVIS-2017 semi-supervised with a tiny random ViT at stride 8
# (tools/quickstart.sh generates data/synthetic).
_base_ = [
    '_base_/labelprop_smtc_vit-s16.py', '_base_/tiny_vit.py',
    '../_base_/datasets/synthetic_davis17_semi.py', '_base_/test_runtime.py'
]
model = dict(
    propagator=dict(backbone={{_base_.tiny_vit}}, topk=5, radius=4),
    stride=8)
test_evaluator = dict(
    type='DAVISMetric', task='semi-supervised', collect_device='cpu')
