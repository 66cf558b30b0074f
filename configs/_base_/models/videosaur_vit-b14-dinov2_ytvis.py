# VideoSAUR with DINOv2 on YouTube-VIS 2021 (official
# configs/videosaur/ytvis_dinov2.yml): the YT-VIS model on a frozen DINOv2
# ViT-B/14 at 518x518 (37x37 = 1369 patches; LayerScale), similarity
# temperature 0.15.
_base_ = ['./videosaur_vit-b16-dino_ytvis.py']
num_patches = 1369
feature_channels = 768
model = dict(
    backbone=dict(
        arch='dinov2-vit-b14',
        pretrain_img_size=518,
        pos_embed_interpolation='timm',
        init_cfg=dict(checkpoint='checkpoints/dinov2_vit-b14.pth')),
    decoder=dict(
        out_channels=feature_channels + num_patches,
        num_patches=num_patches),
    losses=[
        dict(type='FeatureReconstructionLoss', loss_weight=1.0),
        dict(
            type='TemporalSimilarityLoss',
            temperature=0.15,
            first_channel=feature_channels,
            loss_weight=0.1)
    ])
