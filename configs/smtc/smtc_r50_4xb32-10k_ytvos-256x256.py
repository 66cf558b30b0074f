# The relaxed SMTC recipe with a DINO ResNet-50 backbone.
_base_ = [
    '../_base_/models/smtc_r50.py', '../_base_/datasets/ytvos_clips.py',
    '../_base_/schedules/smtc_adamw-cosine_10k.py',
    '../_base_/default_runtime.py'
]
model = dict(grad_iter=3000)
