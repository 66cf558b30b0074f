# Label propagation with the tiny synthetic SMTC's encoder
# (smtc_vit-tiny_encoder.py): the last block's patch tokens without the
# final LayerNorm, as the ViT-S/16 configs, on frames resized to the
# 64x112 the tiny SMTC trains on (configs/smtc/smtc_vit-tiny_*: the
# synthetic 128x224 halved). topk 5 and radius 4 cells scale the SMTC
# settings (topk 7, radius 7) down to its 8x14 grid; n_context 20 and
# temperature 0.2 are SMTC's. With CHECKPOINT 'none' the encoder is the
# untrained one of the same seed.
_base_ = ['./smtc_vit-tiny_encoder.py']
model = dict(
    propagator=dict(
        backbone=dict(
            out_types=('tokens', ),
            final_norm=False,
            drop_path_rate=0.0,
            init_cfg=None),
        out_index=0,
        feature_upsample=None,
        topk=5,
        n_context=20,
        radius=4,
        temperature=0.2,
        feature_batch_size=4,
        tile_size=16,
        bank_device=None),
    label_type='instances',
    input_size=(64, 112),
    grid_rounding='floor',
    frame_batch_size=4)
