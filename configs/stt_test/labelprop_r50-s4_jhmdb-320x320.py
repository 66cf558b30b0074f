# JHMDB split 1 keypoints with Spa-then-Temp's ResNet-50 at stride 4
# (official configs/test/res50_d4.py, neighbor_range 24):
# frames resized to 320x320, Gaussians of 4 image pixels without a
# background channel, top-5 read-out at the image size; PCK as VFS's
# pck_evaluate (protocol='vfs': frame 0 scored, joints visible when x > 0,
# box extremes over the joints; see docs/label_propagation.md). Model zoo
# (the authors' numbers, not reproduced here): PCK@0.1 66.4, PCK@0.2 84.4.
_base_ = [
    '_base_/labelprop_stt_r18-s4.py', '../_base_/datasets/jhmdb.py',
    '../_base_/test_runtime.py'
]
model = dict(
    propagator=dict(
        backbone=dict(
            depth=50,
            init_cfg=dict(checkpoint='checkpoints/stt_r50-s4.pth')),
        radius=12),
    label_type='keypoints',
    input_size=(320, 320),
    keypoint_topk=5,
    keypoint_sigma=4)
test_evaluator = dict(protocol='vfs')
