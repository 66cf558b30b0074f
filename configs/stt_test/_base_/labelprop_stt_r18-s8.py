# Spa-then-Temp's test protocol (qianduoduolr/Spa-then-Temp
# configs/test/res18_d8.py, VanillaTracker) with its ResNet-18 at stride 8:
# stem max-pool removed, stage strides (1, 2, 2), layer3 map, no dilation;
# L*a*b* input normalised (50, 0, 0) / (50, 127, 127); propagation with
# topk 10, temperature 0.07, frame 0 plus the 20 previous real frames
# (context='recent'), a square window applied to frame 0 too; the
# window half-size (`radius` = neighbor_range // 2) is set per benchmark.
# Pre/post-processing: protocol='stt' of LabelPropagationSegmentor.
# The weights: a released checkpoint converted with
# tools/model_converters/stt_official_to_mmsmtc.py.
model = dict(
    type='LabelPropagationSegmentor',
    propagator=dict(
        type='LabelPropagator',
        backbone=dict(
            type='ResNet',
            depth=18,
            out_indices=(2, ),
            stem_pool='none',
            stage_strides=(1, 2, 2),
            init_cfg=dict(
                type='Pretrained', checkpoint='checkpoints/stt_r18-s8.pth')),
        out_index=0,
        feature_upsample=None,
        topk=10,
        n_context=20,
        radius=12,
        temperature=0.07,
        window='square',
        restrict_first_frame=True,
        context='recent',
        feature_batch_size=4,
        tile_size=16,
        bank_device=None),
    stride=8,
    protocol='stt',
    label_type='instances',
    input_size=None,
    grid_rounding='ceil',
    frame_batch_size=4,
    data_preprocessor=dict(
        type='VideoDataPreprocessor',
        mean=(50, 0, 0),
        std=(50, 127, 127),
        color_space='lab'))
