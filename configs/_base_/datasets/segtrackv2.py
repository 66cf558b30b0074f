# SegTrack-v2 (14 videos), single object: J-frame (mean over frames).
_base_ = ['./video_test.py']
test_dataloader = dict(
    dataset=dict(type='SegTrackV2Dataset', data_root='data/SegTrackv2'))
test_evaluator = dict(
    type='SingleObjectMetric', prefix='segtrackv2', collect_device='cpu')
