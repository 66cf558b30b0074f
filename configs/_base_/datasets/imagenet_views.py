# ImageNet train (or any folder of class folders): two views of every image,
# each a random resized crop (area 0.2-1, 224x224) and flip (p 0.5) of its
# own; MoCo v2's colour augmentation is the model's view_augment.
dataset_type = 'ImageFolderDataset'
data_root = 'data/imagenet'
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(
        type='FrameViews',
        crop=dict(size=(224, 224), scale=(0.2, 1.0)),
        flip_prob=0.5,
        num_views=2),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img='train'),
        pipeline=train_pipeline))
