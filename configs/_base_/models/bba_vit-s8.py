# Betrayed by Attention on DINO ViT-S/8 (Ding et al., ECCV 2024): the frozen
# DINO last-block keys of each frame (and, in training, its output cls token)
# go through one spatio-temporal transformer block (8 heads, qkv without
# bias, LayerNorm eps 1e-5, no positional or temporal embedding, dropout 0.1,
# attention dropout 0.4). Training: semantic (30 / 200 patches, margins
# 0.9 / 0.1) and motion (10 / 50 patches, margin 1) losses on 3-frame clips,
# weights 1 / 1, 8 anchors per step. Test: attention of every patch over the
# key frames 0, 10, 20, ... clustered by threshold merging on symmetric KL
# (tau 1.0, 3-frame windows, official: no epsilon). Photometric augmentation
# (grayscale, jitter, blur; the official Augment_GPU_pre) in the model.
# Building needs no file; the DINO weights load in `init_weights()` from the
# output of tools/model_converters/dino_to_mmsmtc.py --arch vit-s8.
model = dict(
    type='BetrayedByAttention',
    data_preprocessor=dict(type='VideoDataPreprocessor'),
    backbone=dict(
        type='VisionTransformer',
        arch='vit-s8',
        out_types=('tokens', 'keys'),
        frozen=True,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dino_vit-s8.pth')),
    head=dict(
        type='SpatioTemporalBlock',
        embed_dim=384,
        num_heads=8,
        drop=0.1,
        attn_drop=0.4),
    losses=[
        dict(type='BbASemanticConsistencyLoss', loss_weight=1.0),
        dict(type='BbAMotionConsistencyLoss', loss_weight=1.0)
    ],
    num_anchors=8,
    key_frame_stride=10,
    tau=1.0,
    cluster_window=3,
    kl_eps=None,
    view_augment=dict(type='ClipPhotometricAugment'),
    test_clip_len=None)
