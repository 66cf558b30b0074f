# MOVi-C (VideoSAUR's webdataset shards, data/save_movi.py): 305 training
# shards (video only) and 8 validation shards, 250 videos of 24 frames at
# 128x128. tools/data/check_videosaur_shards.py checks a copy.
#
# Training (VideoSAUR configs/videosaur/movi_c.yml): one random aligned
# 4-frame chunk per video per pass, bicubic 128 -> 224 + clamp [0, 1],
# horizontal flip 0.5 (whole clip); the ImageNet normalisation is the
# model's VideoDataPreprocessor (frames leave the pipeline as float32 on the
# 0-255 scale).
# Test: every validation video whole (24 frames, one recurrent pass), frames
# bicubic to 224, ground truth nearest-exact 128 -> 224; video FG-ARI and mBO
# at 224x224 with the model's soft masks upsampled bilinearly and
# arg-maxed (SlotArgmaxPostProcessor in the test configs).
dataset_type = 'VideoShardDataset'
data_root = 'data/movi_c'
train_shards = 'movi_c-train-{000000..000304}.tar'
test_shards = 'movi_c-validation-{000000..000007}.tar'
input_size = 224
train_pipeline = [
    dict(type='SampleAlignedChunk', chunk_len=4),
    dict(type='LoadShardSample', fields=('video', )),
    dict(type='ClipBicubicResize', size=input_size),
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
        shards=train_shards,
        min_frames=4,
        pipeline=train_pipeline))
test_pipeline = [
    dict(type='LoadShardSample', fields=('video', 'segmentations')),
    dict(type='ShardSegmentationsToIds', layout='movi'),
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
        shards=test_shards,
        test_mode=True,
        pipeline=test_pipeline))
# Background (id 0) is not an object: FG-ARI; mBO over the objects.
test_evaluator = dict(
    type='ObjectDiscoveryMetric',
    ignore_background=True,
    collect_device='cpu')
