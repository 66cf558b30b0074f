# MoCo v2, ResNet-50, ImageNet-1k, 200 epochs on 8 GPUs x 32 images (the
# official recipe). Step 1 of Spa-then-Temp: convert the result with
# tools/model_converters/moco_to_mmsmtc.py (checkpoints/moco_r50.pth) for
# configs/stt/.
_base_ = [
    '../_base_/models/moco-v2_r50.py', '../_base_/datasets/imagenet_views.py',
    '../_base_/schedules/moco_sgd-cosine_200e.py',
    '../_base_/default_runtime.py'
]
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(by_epoch=True, interval=10))
log_processor = dict(by_epoch=True)
