# The relaxed SMTC recipe with a DINO ResNet-50 backbone.
_base_ = [
    '../_base_/models/smtc_r50.py', '../_base_/datasets/ytvos_clips.py',
    '../_base_/schedules/smtc_adamw-cosine_10k.py',
    '../_base_/default_runtime.py'
]
# Photometric augmentation (grayscale, colour jitter, blur) is drawn
# separately for the student's and the teacher's input in the model
# (`view_augment`), as the official `aug_gpu`; the data pipeline only loads
# and resizes.
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(256, 256)),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(grad_iter=3000, view_augment=dict(type='ClipPhotometricAugment'))
