# DAVIS-2016 val, single object (union of objects): J (mean over videos).
_base_ = ['./video_test.py']
test_dataloader = dict(
    dataset=dict(type='DAVIS2016Dataset', data_root='data/DAVIS', split='val'))
test_evaluator = dict(
    type='SingleObjectMetric', prefix='davis16', collect_device='cpu')
