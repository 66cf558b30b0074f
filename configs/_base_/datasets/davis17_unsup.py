# DAVIS-2017 val, unsupervised multi-object discovery.
# One whole video per sample, original size, frames decoded lazily.
dataset_type = 'DAVIS2017Dataset'
data_root = 'data/DAVIS'
test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
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
        split='val',
        annotation_folder='Annotations_unsupervised',
        pipeline=test_pipeline))
