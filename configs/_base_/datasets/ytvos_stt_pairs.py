# YouTube-VOS-2018 train: pairs of consecutive frames of the list (5 raw
# frames apart), the first uniform in [0, L - 2] (VFS's
# temporal_sampling 'random'), one sample per video and epoch in the
# official epoch loop (here an infinite shuffled sampler: videos uniform).
# The same crop and flip on both frames: area 0.6-1.0, width/height 1.5-2.0
# (20 tries, else the central square), squashed to 256x256, flip 0.5. No
# colour augmentation; LAB conversion and normalisation are the model's.
dataset_type = 'YTVOSClipDataset'
data_root = 'data/YTVOS'
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(
        type='ClipRandomResizedCrop',
        size=(256, 256),
        scale=(0.6, 1.0),
        ratio=(1.5, 2.0),
        max_attempts=20,
        fallback='centre_square'),
    dict(type='ClipRandomFlip', prob=0.5),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        num_frames=2,
        gap=1,
        sampling='offset',
        pipeline=train_pipeline))
