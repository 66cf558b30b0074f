# Shared test-time loading: one whole video per sample at its original size,
# frames decoded lazily (on access), annotations matched by file name.
# Each benchmark file inherits this and sets `test_dataloader.dataset`.
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
    dataset=dict(pipeline=test_pipeline))
