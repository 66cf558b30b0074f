# VIP val (50 videos), part classes on the annotated frames: mIoU over 20
# classes (background + 19 parts); label-propagation models read
# `vip_num_classes` for their class channels.
_base_ = ['./video_test.py']
vip_num_classes = 20
test_dataloader = dict(dataset=dict(type='VIPDataset', data_root='data/VIP'))
test_evaluator = dict(
    type='MIoUMetric', num_classes=vip_num_classes, collect_device='cpu')
