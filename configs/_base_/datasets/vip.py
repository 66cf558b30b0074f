# VIP val (50 videos), part classes on the annotated frames.
_base_ = ['./video_test.py']
test_dataloader = dict(dataset=dict(type='VIPDataset', data_root='data/VIP'))
