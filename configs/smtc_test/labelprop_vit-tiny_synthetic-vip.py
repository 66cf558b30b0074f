# Synthetic VIP parts with a tiny random ViT, 64x64 input, stride 8.
_base_ = [
    '_base_/labelprop_smtc_vit-s16.py', '_base_/tiny_vit.py',
    '../_base_/datasets/synthetic_vip.py', '_base_/test_runtime.py'
]
model = dict(
    propagator=dict(backbone={{_base_.tiny_vit}}, topk=5, radius=4),
    stride=8,
    label_type='classes',
    num_classes=20,
    input_size=(64, 64))
test_evaluator = dict(type='MIoUMetric', num_classes=20, collect_device='cpu')
