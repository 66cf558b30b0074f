# YouTube-VOS-2018 train: unlabelled 4-frame clips at stride 4, 256x256
# (the SMTC training data). As in the official
# loader, frames are only resized here; normalisation is the model's
# VideoDataPreprocessor and the photometric augmentation (grey-scale,
# colour jitter, blur) is drawn per student/teacher view on the device by
# the model's `view_augment`. The Clip* photometric transforms are a CPU
# alternative for single-view methods.
dataset_type = 'YTVOSClipDataset'
data_root = 'data/YTVOS'
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(256, 256)),
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
