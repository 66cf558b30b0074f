# DINOSAUR on COCO (Seitzer et al., ICLR 2023; the VideoSAUR repository's
# configs/dinosaur/coco_base14_dinov2.yml): images through a frozen DINOv2
# ViT-B/14 at 224x224 (16x16 = 256 patches; the 518 positional embedding
# resampled timm-style), slot dim 256, 7 slots, slot attention with its MLP
# (3 iterations), an MLP decoder (3 x 2048) reconstructing the 768 feature
# channels per slot with an alpha mask, trained by feature reconstruction.
slot_dim = 256
num_patches = 256
feature_channels = 768
model = dict(
    type='DINOSAUR',
    data_preprocessor=dict(type='VideoDataPreprocessor'),
    backbone=dict(
        type='VisionTransformer',
        arch='dinov2-vit-b14',
        pretrain_img_size=518,
        pos_embed_interpolation='timm',
        out_types=('tokens', ),
        frozen=True,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dinov2_vit-b14.pth')),
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
            num_iters=3,
            use_mlp=True)),
    decoder=dict(
        type='PatchMLPDecoder',
        slot_dim=slot_dim,
        out_channels=feature_channels,
        num_patches=num_patches,
        hidden_dims=(2048, 2048, 2048)),
    losses=[dict(type='FeatureReconstructionLoss', loss_weight=1.0)])
