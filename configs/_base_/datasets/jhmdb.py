# JHMDB split-1 test (268 videos), keypoint propagation: PCK@0.1..0.5.
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
test_evaluator = dict(
    type='PCKMetric', alphas=(0.1, 0.2, 0.3, 0.4, 0.5), collect_device='cpu')
