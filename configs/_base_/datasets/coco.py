# COCO 2017 for DINOSAUR (VideoSAUR's data/save_coco.py shards: 925 training
# and 40 validation shards of `image.npy` (H, W, 3) and `segmentations.npy`
# (n, H, W) category ids, crowd annotations removed). Each image is a
# one-frame video.
#
# Training (configs/dinosaur/coco_base14_dinov2.yml): short side bicubic to
# 224 + clamp, one random 224x224 crop, horizontal flip 0.5; 64 per batch.
# Test: centre crop of the full short side, bicubic 224; masks the same crop
# and nearest-exact to 224; pixels of several instances are void (the
# official ignore_overlaps), unlabelled pixels id 0 and left out: image
# FG-ARI and mBO.
dataset_type = 'VideoShardDataset'
data_root = 'data/coco'
input_size = 224
train_pipeline = [
    dict(type='LoadShardSample', fields=('image', )),
    dict(type='ClipBicubicResize', short_side=input_size),
    dict(type='ClipRandomSquareCrop', size=input_size),
    dict(type='ClipRandomFlip', prob=0.5),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        shards='coco-train-{000000..000924}.tar',
        frames_field='image',
        pipeline=train_pipeline))
test_pipeline = [
    dict(type='LoadShardSample', fields=('image', 'segmentations')),
    dict(type='ShardSegmentationsToIds', layout='coco'),
    dict(type='ClipCenterFullCrop'),
    dict(type='ClipBicubicResize', size=input_size, mask_size=224),
    dict(type='PackShardVideoInputs'),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mmsmtc.video_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        shards='coco-validation-{000000..000039}.tar',
        frames_field='image',
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(
    type='ObjectDiscoveryMetric',
    ignore_background=True,
    collect_device='cpu')
