# Label propagation with a ResNet-50 res3 (layer3) map at stride 8 (CRW's
# stride removal, no dilation) and the CRW settings of
# docs/label_propagation.md (topk 10, n_context 20,
# radius 12, temperature 0.05).
model = dict(
    type='LabelPropagationSegmentor',
    propagator=dict(
        type='LabelPropagator',
        backbone=dict(
            type='ResNet',
            depth=50,
            out_indices=(2, ),
            output_stride=8,
            dilate=False,
            init_cfg=dict(
                type='Pretrained', checkpoint='checkpoints/resnet50.pth')),
        out_index=0,
        feature_upsample=None,
        topk=10,
        n_context=20,
        radius=12,
        temperature=0.05,
        feature_batch_size=4,
        tile_size=16,
        bank_device=None),
    stride=8,
    label_type='instances',
    input_size=None,
    grid_rounding='floor',
    frame_batch_size=4)
