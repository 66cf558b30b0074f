# Official VideoSAUR DINOv2 YT-VIS 2021 recipe (configs/videosaur/
# ytvis_dinov2.yml): DINOv2 ViT-B/14 at 518x518, 7 slots, temperature 0.15;
# 1 GPU x 64 clips, lr = 64 / 32 * 1e-4 = 2e-4.
_base_ = [
    '../_base_/models/videosaur_vit-b14-dinov2_ytvis.py',
    '../_base_/datasets/ytvis2021_518.py',
    '../_base_/schedules/videosaur_adam-expdecay_100k.py',
    '../_base_/default_runtime.py'
]
optim_wrapper = dict(optimizer=dict(lr=2e-4))
auto_scale_lr = dict(base_batch_size=64)
