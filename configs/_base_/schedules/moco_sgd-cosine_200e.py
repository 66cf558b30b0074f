# MoCo v2: SGD lr 0.03 (batch 256), momentum 0.9, weight decay 1e-4, 200
# epochs, cosine per epoch to 0 (main_moco.py --cos).
max_epochs = 200
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=True, begin=0,
         end=max_epochs, T_max=max_epochs)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_scale_lr = dict(enable=False, base_batch_size=256)
