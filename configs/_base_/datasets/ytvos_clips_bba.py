# YouTube-VOS train: unlabelled 3-frame clips at stride 2 (c - 2, c, c + 2),
# 192x384, one clip per GPU (the Betrayed-by-Attention training data, drawn
# as its loader does: sampling='bba'). Normalisation (ImageNet, as the
# official training) is the model's VideoDataPreprocessor; the photometric
# augmentation is the model's `view_augment`.
_base_ = ['./ytvos_clips.py']
train_pipeline = [
    dict(type='LoadClipFrames'),
    dict(type='ClipResize', size=(192, 384)),
    dict(type='PackClipInputs'),
]
train_dataloader = dict(
    batch_size=1,
    dataset=dict(
        num_frames=3, gap=2, sampling='bba', pipeline=train_pipeline))
