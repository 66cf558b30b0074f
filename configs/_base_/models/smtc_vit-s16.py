# SMTC on DINO ViT-S/16 (Qian et al., ICCV 2023): the last block's attention
# keys, fused with the correlation to the previous frame, feed two-stage slot
# attention; an EMA teacher (its encoder kept at the DINO weights) provides
# the targets of the three losses. Photometric augmentation (grayscale,
# colour jitter, blur) is drawn separately for the student's and the
# teacher's input in the model (`view_augment`), as the official `aug_gpu`.
# Building needs no file; the DINO weights load in `init_weights()` from the
# output of tools/model_converters/dino_to_mmsmtc.py.
model = dict(
    type='SMTC',
    data_preprocessor=dict(type='VideoDataPreprocessor'),
    backbone=dict(
        type='VisionTransformer',
        arch='vit-s16',
        out_types=('keys', ),
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/dino_vit-s16.pth')),
    neck=dict(type='CorrelationFusion', in_channels=384, grid_size=16),
    head=dict(
        type='TwoStageSlotAttention',
        in_channels=384,
        num_slots=16,
        num_instances=4,
        iters=3),
    losses=[
        dict(type='SemanticConsistencyLoss', loss_weight=1.0),
        dict(type='InstanceConsistencyLoss', loss_weight=1.0),
        dict(type='SlotDiversityLoss', loss_weight=1.0)
    ],
    teacher=dict(momentum=0.999, frozen_parts=('backbone', )),
    frozen_backbone_iters=0,
    view_augment=dict(type='ClipPhotometricAugment'),
    test_clip_len=4)
# While the encoder is frozen (frozen_backbone_iters) its parameters get no
# gradient.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
