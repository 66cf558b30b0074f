# Official relaxed SMTC recipe (start_twostage.sh): ViT-S/16, 16 slots x 4
# instances, 3 iterations, 4-frame clips at gap 4, lr 2e-5, the encoder
# frozen for 3000 iterations (grad_iter) and then trained at 0.01x the lr.
_base_ = [
    '../_base_/models/smtc_vit-s16.py', '../_base_/datasets/ytvos_clips.py',
    '../_base_/schedules/smtc_adamw-cosine_10k.py',
    '../_base_/default_runtime.py'
]
model = dict(frozen_backbone_iters=3000)
