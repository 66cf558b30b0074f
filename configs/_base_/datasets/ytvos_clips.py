# YouTube-VOS-2018 train: unlabelled 4-frame clips at stride 4, 256x256
# (the SMTC training data). Normalisation is the model's
# VideoDataPreprocessor.
dataset_type = 'YTVOSClipDataset'
data_root = 'data/YTVOS'
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(256, 256)),
    dict(type='ClipRandomGrayscale', prob=0.2),
    dict(
        type='ClipColorJitter',
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.1,
        prob=0.8),
    dict(type='ClipGaussianBlur', prob=0.5, sigma_range=(0.1, 2.0)),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        num_frames=4,
        gap=4,
        pipeline=train_pipeline))
