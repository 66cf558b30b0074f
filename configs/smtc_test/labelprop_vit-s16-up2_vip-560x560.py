# VIP val, 20 classes (background + 19 parts): frames resized to 560x560,
# stride-8 grid, mIoU over the annotated frames. The protocol states no
# SMTC settings for VIP; these are its stride-8 DAVIS settings.
_base_ = [
    '_base_/labelprop_smtc_vit-s16.py', '../_base_/datasets/vip.py',
    '_base_/test_runtime.py'
]
model = dict(
    propagator=dict(feature_upsample=2, topk=28, radius=35),
    stride=8,
    label_type='classes',
    num_classes=20,
    input_size=(560, 560))
test_evaluator = dict(type='MIoUMetric', num_classes=20, collect_device='cpu')
