# Label propagation with the tiny synthetic Spa-then-Temp's student
# (configs/stt/stt_r18-s8_*_synthetic-*; or the step-1 MoCo ResNet-18 of
# configs/moco/*_synthetic-*): its ResNet-18 at the test stride 8 (no stem
# pool, strides (1, 2, 2), layer3), LAB input normalised with (50, 0, 0) /
# (50, 127, 127), frames resized to the 64x112 it trains on (an 8x14 grid).
# Propagation: the settings of the tiny SMTC (topk 5, radius 4 cells, 20
# context frames) with Spa-then-Temp's temperature 0.07. CHECKPOINT 'none'
# tests the random initialisation.
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
            init_cfg=None),
        out_index=0,
        feature_upsample=None,
        topk=5,
        n_context=20,
        radius=4,
        temperature=0.07,
        feature_batch_size=4,
        tile_size=16,
        bank_device=None),
    stride=8,
    label_type='instances',
    input_size=(64, 112),
    grid_rounding='floor',
    frame_batch_size=4,
    data_preprocessor=dict(
        type='VideoDataPreprocessor',
        mean=(50.0, 0.0, 0.0),
        std=(50.0, 127.0, 127.0),
        color_space='lab'))
