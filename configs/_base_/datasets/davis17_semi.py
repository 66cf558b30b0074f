# DAVIS-2017 val, semi-supervised (first-frame masks given).
_base_ = ['./video_test.py']
test_dataloader = dict(
    dataset=dict(
        type='DAVIS2017Dataset',
        data_root='data/DAVIS',
        split='val',
        annotation_folder='Annotations'))
