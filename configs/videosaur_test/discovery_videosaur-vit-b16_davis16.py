# DAVIS-2016 val (configs/_base_/datasets/davis16.py): single-object
# J; the foreground is the union of the discovered objects (no annotation
# used).
_base_ = ['./_base_/discovery_videosaur_vit-b16-dino.py']
model = dict(
    post_processor=dict(
        _delete_=True,
        type='SingleObjectPostProcessor',
        discovery={{_base_.videosaur_discovery}},
        rule='union'))
test_dataloader = dict(
    _delete_=True,
    dataset=dict(
        type='DAVIS2016Dataset',
        data_root='data/DAVIS',
        split='val',
        pipeline={{_base_.video_test_pipeline}}),
    **_base_.video_test_dataloader)
test_evaluator = dict(
    _delete_=True,
    type='SingleObjectMetric',
    prefix='davis16',
    collect_device='cpu')
