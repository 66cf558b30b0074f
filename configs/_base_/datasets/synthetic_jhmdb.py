# Synthetic set, JHMDB layout (fewer joints than 15).
# One whole video per sample, original size, frames decoded lazily.
dataset_type = 'JHMDBDataset'
data_root = 'data/synthetic/JHMDB'
test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadJHMDBKeypoints'),
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
        split=1,
        pipeline=test_pipeline))
