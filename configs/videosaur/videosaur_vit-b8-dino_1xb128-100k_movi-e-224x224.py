# Official VideoSAUR MOVi-E recipe (configs/videosaur/movi_e.yml): the MOVi-C
# model with 15 slots, on the MOVi-E shards.
_base_ = [
    '../_base_/models/videosaur_vit-b8-dino_movi.py',
    '../_base_/datasets/movi_e.py',
    '../_base_/schedules/videosaur_adam-expdecay_100k.py',
    '../_base_/default_runtime.py'
]
model = dict(slot_initializer=dict(num_slots=15))
