# Label propagation with the SMTC / DINO ViT-S/16 encoder: the last block's
# patch tokens without the final LayerNorm, stride 16, SMTC settings of
# docs/label_propagation.md (topk 7, n_context 20,
# radius 7, temperature 0.2). With CHECKPOINT 'none' the DINO weights load
# through init_cfg (tools/model_converters/dino_to_mmsmtc.py output).
model = dict(
    type='LabelPropagationSegmentor',
    propagator=dict(
        type='LabelPropagator',
        backbone=dict(
            type='VisionTransformer',
            arch='vit-s16',
            out_types=('tokens', ),
            final_norm=False,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='checkpoints/dino_vit-s16.pth')),
        out_index=0,
        feature_upsample=None,
        topk=7,
        n_context=20,
        radius=7,
        temperature=0.2,
        feature_batch_size=4,
        tile_size=16,
        bank_device=None),
    stride=16,
    label_type='instances',
    input_size=None,
    grid_rounding='floor',
    frame_batch_size=4)
