# MoCo v2 (facebookresearch/moco main_moco.py --mlp --moco-t 0.2 --aug-plus
# --cos): ResNet-50 query encoder with a 2048-2048-128 MLP head, momentum
# encoder 0.999 (the EMA teacher), 65536 queued negatives, InfoNCE at
# T = 0.2. Colour jitter 0.4/0.4/0.4/0.1 (p 0.8), grey-scale (p 0.2) and
# Gaussian blur sigma 0.1-2 (p 0.5) are drawn per view on the device
# (ClipPhotometricAugment: grey-scale before jitter and torchvision's blur
# kernel, where MoCo applies PIL's blur after the jitter); crops and flips
# are the data pipeline's (FrameViews). Step 1 (spatial) of Spa-then-Temp.
model = dict(
    type='MoCo',
    backbone=dict(type='ResNet', depth=50, out_indices=(3, )),
    neck=dict(
        type='ProjectionMLP',
        in_channels=2048,
        hidden_channels=2048,
        out_channels=128),
    queue_size=65536,
    feat_dim=128,
    teacher=dict(momentum=0.999),
    losses=[dict(type='InfoNCELoss', temperature=0.2)],
    view_augment=dict(type='ClipPhotometricAugment'),
    data_preprocessor=dict(type='VideoDataPreprocessor'))
