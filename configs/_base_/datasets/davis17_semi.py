# DAVIS-2017 val, semi-supervised (first-frame masks given): J&F.
_base_ = ['./video_test.py']
test_dataloader = dict(
    dataset=dict(
        type='DAVIS2017Dataset',
        data_root='data/DAVIS',
        split='val',
        annotation_folder='Annotations'))
test_evaluator = dict(
    type='DAVISMetric', task='semi-supervised', collect_device='cpu')
