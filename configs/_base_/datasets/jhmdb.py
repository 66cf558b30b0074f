# JHMDB split-1 test (268 videos), keypoint propagation: PCK@0.1..0.5.
# `jhmdb_propagation` is the protocol's pre/post-processing of a
# label-propagation segmentor (frames resized to 320x320, grid rounded up,
# Gaussian joint maps, top-3 read-out): a test config sets
# `model = {{_base_.jhmdb_propagation}}` to merge it into its model.
_base_ = ['./video_test.py']
jhmdb_propagation = dict(
    label_type='keypoints',
    input_size=(320, 320),
    grid_rounding='ceil',
    keypoint_topk=3)
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
# protocol='crw': CRW's eval_pck.py (frame 0 skipped, joints visible when
# x >= 0), used for CRW and SMTC; the Spa-then-Temp configs select VFS's
# ('vfs').
test_evaluator = dict(
    type='PCKMetric',
    alphas=(0.1, 0.2, 0.3, 0.4, 0.5),
    protocol='crw',
    collect_device='cpu')
