# A tiny, randomly initialised ViT (8x8 patches, 1 block, 32 channels) for
# the synthetic configs: runs on a laptop CPU in seconds.
tiny_vit = dict(
    _delete_=True,
    type='VisionTransformer',
    arch=dict(patch_size=8, embed_dim=32, depth=1, num_heads=2),
    out_types=('tokens', ),
    final_norm=False,
    pretrain_img_size=64,
    init_cfg=None)
