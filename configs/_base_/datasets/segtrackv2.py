# SegTrack-v2 (14 videos), single object.
_base_ = ['./video_test.py']
test_dataloader = dict(
    dataset=dict(type='SegTrackV2Dataset', data_root='data/SegTrackv2'))
