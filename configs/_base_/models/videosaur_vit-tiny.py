# A tiny VideoSAUR for CPU quick starts and tests: a random 2-block ViT with
# 8x8 patches and 48 channels (no pretrained weights exist for it), slot dim
# 16, 4 slots, the YT-VIS design (feature reconstruction + temporal
# similarity) on 64x64 clips (8x8 = 64 patches), allocator and predictor of
# one 2-head block, renderer 2 x 64.
_base_ = ['./videosaur_vit-b16-dino_ytvis.py']
slot_dim = 16
num_patches = 64
feature_channels = 48
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True, patch_size=8, embed_dim=48, depth=2, num_heads=3),
        pretrain_img_size=64,
        init_cfg=None),
    neck=dict(in_channels=feature_channels, out_channels=slot_dim),
    slot_initializer=dict(num_slots=4, slot_dim=slot_dim),
    processor=dict(
        corrector=dict(in_channels=slot_dim, slot_dim=slot_dim),
        predictor=dict(dim=slot_dim, num_heads=2)),
    decoder=dict(
        slot_dim=slot_dim,
        out_channels=feature_channels + num_patches,
        num_patches=num_patches,
        allocator=dict(dim=slot_dim, num_blocks=1, num_heads=2),
        renderer_dims=(64, 64)),
    losses=[
        dict(type='FeatureReconstructionLoss', loss_weight=1.0),
        dict(
            type='TemporalSimilarityLoss',
            temperature=0.25,
            first_channel=feature_channels,
            loss_weight=0.1)
    ],
    test_clip_len=4)
