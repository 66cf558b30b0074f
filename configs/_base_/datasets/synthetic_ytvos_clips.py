# Synthetic set, YouTube-VOS layout: unlabelled 4-frame clips at stride 4,
# 256x256 (as ytvos_clips.py). As in the official
# loader, frames are only resized here; normalisation is the model's
# VideoDataPreprocessor and the photometric augmentation (grey-scale,
# colour jitter, blur) is drawn per student/teacher view on the device by
# the model's `view_augment`. The Clip* photometric transforms are a CPU
# alternative for single-view methods.
dataset_type = 'YTVOSClipDataset'
data_root = 'data/synthetic/YTVOS'
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(256, 256)),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        num_frames=4,
        gap=4,
        pipeline=train_pipeline))
