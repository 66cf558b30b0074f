# Label propagation with the tiny synthetic Spa-then-Temp's student
# (configs/stt/stt_r18-s8_*_synthetic-*; or the step-1 MoCo ResNet-18 of
# configs/moco/*_synthetic-*, or its random start) under Spa-then-Temp's
# test protocol (configs/stt_test/_base_/labelprop_stt_r18-s8.py: ResNet-18
# at stride 8, L*a*b* input, topk 10, temperature 0.07, frame 0 plus the 20
# previous frames, square window applied to frame 0 too, protocol='stt').
# Changed for the synthetic set: the weights are the test checkpoint
# (CHECKPOINT 'none' tests the random initialisation), and frames are
# resized to the 64x112 the tiny model trains on (the set's 128x224 halved,
# as the tiny SMTC's test configs): an 8x14 grid. The window half-size
# `radius` of each benchmark config is the official one scaled to this grid
# by the grid height: official radius / official grid height * 8, rounded.
_base_ = ['../../stt_test/_base_/labelprop_stt_r18-s8.py']
model = dict(
    propagator=dict(backbone=dict(init_cfg=None)),
    input_size=(64, 112))
