# A tiny SMTC for the synthetic benchmark (tools/data/make_synthetic.py) that
# trains from scratch on a laptop CPU in minutes: a 2-block ViT with 8x8
# patches and 64 channels (no pretrained weights exist for it), 6 semantic
# slots x 2 instances, EMA momentum 0.99 (0.999 would leave the teacher at
# its random start), and a milder view augmentation (the synthetic objects
# differ mainly by colour: no grey-scale or hue jitter, and no blur on 8-pixel
# patches). Training (configs/smtc/smtc_vit-tiny_*) and every synthetic test
# config (configs/smtc_test/*vit-tiny*) inherit it, so a checkpoint of the one
# always fits the others.
_base_ = ['./smtc_vit-s16.py']
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True, patch_size=8, embed_dim=64, depth=2, num_heads=2),
        pretrain_img_size=64,
        drop_path_rate=0.0,
        init_cfg=None),
    neck=dict(in_channels=64, grid_size=(8, 14)),
    head=dict(in_channels=64, num_slots=6, num_instances=2),
    teacher=dict(momentum=0.99),
    frozen_backbone_iters=1000,
    view_augment=dict(
        grayscale_prob=0.0, jitter=(0.2, 0.2, 0.2, 0.0), blur_prob=0.0))
