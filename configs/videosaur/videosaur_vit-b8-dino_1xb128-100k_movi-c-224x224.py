# Official VideoSAUR MOVi-C recipe (configs/videosaur/movi_c.yml): DINO
# ViT-B/8, 11 slots, temporal similarity only; 1 GPU x 128 clips of 4
# frames at 224x224, Adam 4e-4, warm-up 2.5k + exponential decay, clip 0.05.
# Data: 4-frame training chunks, the 24-frame validation videos.
_base_ = [
    '../_base_/models/videosaur_vit-b8-dino_movi.py',
    '../_base_/datasets/movi_c.py',
    '../_base_/schedules/videosaur_adam-expdecay_100k.py',
    '../_base_/default_runtime.py'
]
