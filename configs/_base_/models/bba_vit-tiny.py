# A tiny Betrayed by Attention for the synthetic set and CPU tests: the random
# tiny ViT of smtc_vit-tiny.py (patch 8, width 64, 2 blocks; frozen, as DINO
# in the official model), a block of width 64 with 8 heads, loss counts
# scaled to an 8x14 grid (112 patches per frame: semantic 3 / 20, motion
# 2 / 5), key frames every 2 frames.
_base_ = ['./bba_vit-s8.py']
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True, patch_size=8, embed_dim=64, depth=2, num_heads=2),
        pretrain_img_size=64,
        init_cfg=None),
    head=dict(embed_dim=64),
    losses=[
        dict(
            type='BbASemanticConsistencyLoss', num_positives=3,
            num_negatives=20),
        dict(type='BbAMotionConsistencyLoss', num_positives=2,
             num_negatives=5)
    ],
    key_frame_stride=2,
    view_augment=dict(
        grayscale_prob=0.0, jitter=(0.2, 0.2, 0.2, 0.0), blur_prob=0.0))
