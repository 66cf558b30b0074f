# VideoSAUR on MOVi-C (Zadaianchuk et al., NeurIPS 2023; official
# configs/videosaur/movi_c.yml): frozen DINO ViT-B/8 at 224x224 (28x28 = 784
# patches), slot dim 128, 11 slots, slot attention 3 iterations on the first
# frame and 2 after, a one-block transformer predictor, a SlotMixer decoder
# (2 allocator blocks, renderer 4 x 1024) predicting only the 784 next-frame
# similarity logits, trained by the temporal similarity loss (temperature
# 0.075, weight 0.1). MOVi-E: 15 slots (its leaf config).
# Building needs no file: the DINO weights load in `init_weights()` from the
# output of tools/model_converters/dino_to_mmsmtc.py (`--arch vit-b8`); a
# released VideoSAUR checkpoint is converted with
# tools/model_converters/videosaur_official_to_mmsmtc.py (use it with
# `load_from`).
slot_dim = 128
num_patches = 784
model = dict(
    type='VideoSAUR',
    data_preprocessor=dict(type='VideoDataPreprocessor'),
    backbone=dict(
        type='VisionTransformer',
        arch='vit-b8',
        out_types=('tokens', 'keys'),
        frozen=True,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dino_vit-b8.pth')),
    neck=dict(type='PatchFeatureMLP', in_channels=768, out_channels=slot_dim),
    slot_initializer=dict(
        type='LearnedGaussianSlotInit', num_slots=11, slot_dim=slot_dim),
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
        out_channels=num_patches,
        num_patches=num_patches,
        allocator=dict(
            type='SlotTransformer', dim=slot_dim, num_blocks=2, num_heads=4),
        renderer_dims=(1024, 1024, 1024, 1024)),
    losses=[
        dict(
            type='TemporalSimilarityLoss',
            temperature=0.075,
            first_channel=0,
            loss_weight=0.1)
    ],
    # the official MOVi evaluation runs each 24-frame video in one
    # recurrent pass; clips of 8 frames carry the slots and give the same
    # result with bounded memory
    test_clip_len=8)
