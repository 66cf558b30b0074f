# Spa-then-Temp step 2 (temporal), the official Framework of
# configs/train/train.py: a ResNet-50 student on LAB frames with a chroma
# channel dropped (no stem pool, strides (1, 2, 2, 4): layer2 at stride 4,
# layer3 at 8, layer4 at 32), a frozen standard ResNet-50 teacher on RGB
# (eval mode, never optimised); reconstruction of the dropped channel at
# layer2 (window +-12 cells) and layer3 (+-6), fine-to-coarse local
# correlation distillation x1000, global distillation from the teacher x50.
# Student and teacher start from step 1 (spatial, configs/moco/): convert its
# checkpoint with tools/model_converters/moco_to_mmsmtc.py to
# checkpoints/moco_r50.pth. The three official behaviours that differ from
# the paper are LocalCorrelationDistillLoss's defaults (uncertainty,
# threshold, target_pooling; see its docstring for the paper's values).
model = dict(
    type='SpaThenTemp',
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(1, 2, 3),
        stem_pool='none',
        stage_strides=(1, 2, 2, 4),
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/moco_r50.pth')),
    teacher_backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        init_cfg=dict(
            type='Pretrained', checkpoint='checkpoints/moco_r50.pth')),
    radius=(12, 6),
    downsample_rate=(4, 8),
    losses=[
        dict(type='ChromaReconstructionLoss', level=0, scale=20.0,
             loss_weight=1.0),
        dict(type='ChromaReconstructionLoss', level=1, scale=20.0,
             loss_weight=1.0),
        dict(type='LocalCorrelationDistillLoss', ratio=0.7,
             uncertainty='neg_log_sum', threshold='row',
             target_pooling='avg', loss_weight=1000.0),
        dict(type='GlobalCorrelationDistillLoss', teacher_temperature=0.07,
             normalize=False, loss_weight=50.0),
    ],
    data_preprocessor=dict(type='VideoDataPreprocessor'))
