# VIP val (50 videos), part classes on the annotated frames: mIoU over 20
# classes (background + 19 parts). `vip_propagation` is the protocol's
# setting of a label-propagation segmentor (one channel per class, frames
# resized to 560x560): a test config sets `model = {{_base_.vip_propagation}}`
# to merge it into its model.
_base_ = ['./video_test.py']
vip_num_classes = 20
vip_propagation = dict(
    label_type='classes', num_classes=vip_num_classes, input_size=(560, 560))
test_dataloader = dict(dataset=dict(type='VIPDataset', data_root='data/VIP'))
# protocol='aten': the ATEN / UVC eval_vip.py counting that CRW and SMTC are
# scored with; the Spa-then-Temp configs select VFS's ('vfs').
test_evaluator = dict(
    type='MIoUMetric',
    num_classes=vip_num_classes,
    protocol='aten',
    collect_device='cpu')
