# VideoSAUR on YouTube-VIS 2021 (official configs/videosaur/ytvis.yml):
# frozen DINO ViT-B/16 at 224x224 (14x14 = 196 patches), slot dim 64, 7
# slots, slot attention 3 / 2 iterations, a one-block predictor, a SlotMixer
# decoder (3 allocator blocks, renderer 3 x 1024) reconstructing the 768 DINO
# feature channels followed by the 196 next-frame similarity logits, trained
# by feature reconstruction (MSE, weight 1.0) and temporal similarity
# (temperature 0.25, weight 0.1).
slot_dim = 64
num_patches = 196
feature_channels = 768
model = dict(
    type='VideoSAUR',
    data_preprocessor=dict(type='VideoDataPreprocessor'),
    backbone=dict(
        type='VisionTransformer',
        arch='vit-b16',
        out_types=('tokens', 'keys'),
        frozen=True,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dino_vit-b16.pth')),
    neck=dict(
        type='PatchFeatureMLP',
        in_channels=feature_channels,
        out_channels=slot_dim),
    slot_initializer=dict(
        type='LearnedGaussianSlotInit', num_slots=7, slot_dim=slot_dim),
    processor=dict(
        type='RecurrentSlotProcessor',
        corrector=dict(
            type='SlotAttentionCorrector',
            in_channels=slot_dim,
            slot_dim=slot_dim,
            num_iters=2),
        predictor=dict(
            type='SlotTransformer', dim=slot_dim, num_blocks=1, num_heads=4),
        first_frame_iters=3),
    decoder=dict(
        type='SlotMixerDecoder',
        slot_dim=slot_dim,
        out_channels=feature_channels + num_patches,
        num_patches=num_patches,
        allocator=dict(
            type='SlotTransformer', dim=slot_dim, num_blocks=3, num_heads=4),
        renderer_dims=(1024, 1024, 1024)),
    losses=[
        dict(type='FeatureReconstructionLoss', loss_weight=1.0),
        dict(
            type='TemporalSimilarityLoss',
            temperature=0.25,
            first_channel=feature_channels,
            loss_weight=0.1)
    ],
    # the official YT-VIS evaluation scores 6-frame chunks, each a video of
    # its own with fresh slots (the dataset splits them)
    test_clip_len=6)
