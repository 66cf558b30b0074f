# JHMDB split-1 test (268 videos), keypoint propagation.
_base_ = ['./video_test.py']
test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadJHMDBKeypoints'),
    dict(type='PackVideoInputs'),
]
test_dataloader = dict(
    dataset=dict(
        type='JHMDBDataset',
        data_root='data/JHMDB',
        split=1,
        pipeline=test_pipeline))
