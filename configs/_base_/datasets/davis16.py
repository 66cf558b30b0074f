# DAVIS-2016 val, single object (union of objects).
_base_ = ['./video_test.py']
test_dataloader = dict(
    dataset=dict(type='DAVIS2016Dataset', data_root='data/DAVIS', split='val'))
