# YT-VIS 2021 as VideoSAUR splits it (tools/data/prepare_ytvis2021.py, the
# official data/save_ytvis2021.py): the official training set, its last 300
# videos of instances.json as validation (30 shards of 10), the other 2,685
# for training (84 shards of 32); frames and masks stored with short side
# 320 (nearest-exact).
#
# Training (configs/videosaur/ytvis.yml): one random aligned 4-frame chunk
# per video, short side bicubic to 224 + clamp, one random 224x224 crop for
# the clip, horizontal flip 0.5; ImageNet normalisation in the model.
# Test: aligned non-overlapping 6-frame chunks (the remainder dropped), each
# scored as a video of its own (`<video>_<chunk>`, fresh slots); frames
# centre-cropped to the full short side and bicubic to 224, ground truth
# the same crop and nearest-exact to 224; unlabelled pixels are id 0 and
# left out (FG-ARI), overlapping instances void. The official code scores
# only about 224 of the chunks (docs/videosaur_data.md); set
# `test_dataloader.dataset.official_partial_scoring=dict(val_size=200)` to
# reproduce that subset.
dataset_type = 'VideoShardDataset'
data_root = 'data/ytvis2021_resized'
input_size = 224
train_pipeline = [
    dict(type='SampleAlignedChunk', chunk_len=4),
    dict(type='LoadShardSample', fields=('video', )),
    dict(type='ClipBicubicResize', short_side=input_size),
    dict(type='ClipRandomSquareCrop', size=input_size),
    dict(type='ClipRandomFlip', prob=0.5),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        shards='ytvis-train-{000000..000083}.tar',
        min_frames=4,
        pipeline=train_pipeline))
test_pipeline = [
    dict(type='LoadShardSample', fields=('video', 'segmentations')),
    dict(type='ShardSegmentationsToIds', layout='ytvis'),
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
        shards='ytvis-validation-{000000..000029}.tar',
        chunk_len=6,
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(
    type='ObjectDiscoveryMetric',
    ignore_background=True,
    collect_device='cpu')
