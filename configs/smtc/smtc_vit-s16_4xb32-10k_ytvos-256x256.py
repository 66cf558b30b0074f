# Official relaxed SMTC recipe (start_twostage.sh): ViT-S/16, 16 slots x 4
# instances, 3 iterations, 4-frame clips at gap 4, lr 2e-5, grad_iter 3000.
_base_ = [
    '../_base_/models/smtc_vit-s16.py', '../_base_/datasets/ytvos_clips.py',
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
