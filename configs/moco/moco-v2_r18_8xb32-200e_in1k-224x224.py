# MoCo v2 with a ResNet-18 (512-512-128 head): step 1 for Spa-then-Temp's
# ResNet-18 students (checkpoints/moco_r18.pth after conversion).
_base_ = ['./moco-v2_r50_8xb32-200e_in1k-224x224.py']
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=512, hidden_channels=512))
