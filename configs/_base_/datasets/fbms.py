# FBMS-59 test (30 videos), single object, sparse annotations: J-frame.
_base_ = ['./video_test.py']
test_dataloader = dict(
    dataset=dict(type='FBMSDataset', data_root='data/FBMS'))
test_evaluator = dict(
    type='SingleObjectMetric', prefix='fbms', collect_device='cpu')
