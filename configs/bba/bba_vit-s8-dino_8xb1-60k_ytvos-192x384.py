# Betrayed by Attention, official recipe (start_rgb.sh): DINO ViT-S/8 frozen,
# one spatio-temporal block trained on YouTube-VOS 3-frame clips at 192x384,
# 8 GPUs x 1 clip, AdamW 1e-5 cosine, 60k iterations.
_base_ = [
    '../_base_/models/bba_vit-s8.py', '../_base_/datasets/ytvos_clips_bba.py',
    '../_base_/schedules/bba_adamw-cosine_60k.py',
    '../_base_/default_runtime.py'
]
