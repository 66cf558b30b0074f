# Spa-then-Temp step 2 with a ResNet-50 student: the official
# configs/train/train.py (4 GPUs x 16 pairs, SyncBN, 44k iterations). Test
# its checkpoint with the stride-8 / stride-4 label-propagation configs
# (LAB input; the student's backbone.* keys).
_base_ = [
    '../_base_/models/stt_r50.py', '../_base_/datasets/ytvos_stt_pairs.py',
    '../_base_/schedules/stt_adam-cosine_44k.py',
    '../_base_/default_runtime.py'
]
sync_bn = 'torch'
default_hooks = dict(
    logger=dict(interval=100), checkpoint=dict(interval=4000))
