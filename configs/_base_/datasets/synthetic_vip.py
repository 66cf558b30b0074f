# Synthetic set, VIP layout.
# One whole video per sample, original size, frames decoded lazily.
dataset_type = 'VIPDataset'
data_root = 'data/synthetic/VIP'
test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs'),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mmsmtc.video_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        pipeline=test_pipeline))
