# Synthetic DAVIS-2017 unsupervised with the tiny SMTC of
# configs/smtc/smtc_vit-tiny_1xb4-400_synthetic-64x112.py (test its
# checkpoint, or 'none' for an untrained model), 64x112 input.
_base_ = [
    '_base_/discovery_smtc_vit-s16.py',
    '../_base_/datasets/synthetic_davis17_unsup.py', '_base_/test_runtime.py'
]
model = dict(
    smtc=dict(
        backbone=dict(
            arch=dict(
                _delete_=True,
                patch_size=8,
                embed_dim=64,
                depth=2,
                num_heads=2),
            pretrain_img_size=64,
            drop_path_rate=0.0,
            init_cfg=None),
        neck=dict(in_channels=64, grid_size=(8, 14)),
        head=dict(in_channels=64, num_slots=6, num_instances=2),
        grad_iter=10,
        ema_momentum=0.99),
    input_size=(64, 112),
    size_multiple=8)
test_evaluator = dict(
    type='DAVISMetric', task='unsupervised', collect_device='cpu')
