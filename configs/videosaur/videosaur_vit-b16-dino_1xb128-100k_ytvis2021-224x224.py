# Official VideoSAUR YT-VIS 2021 recipe (configs/videosaur/ytvis.yml): DINO
# ViT-B/16, 7 slots, feature reconstruction + temporal similarity; 1 GPU x
# 128 clips of 4 frames at 224x224, Adam 4e-4, clip 0.05.
_base_ = [
    '../_base_/models/videosaur_vit-b16-dino_ytvis.py',
    '../_base_/datasets/ytvis2021.py',
    '../_base_/schedules/videosaur_adam-expdecay_100k.py',
    '../_base_/default_runtime.py'
]
