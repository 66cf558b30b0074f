# JHMDB split-1 test (268 videos), keypoint propagation.
# One whole video per sample, original size, frames decoded lazily.
dataset_type = 'JHMDBDataset'
data_root = 'data/JHMDB'
test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadJHMDBKeypoints'),
    dict(type='PackVideoInputs'),
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
        split=1,
        pipeline=test_pipeline))
