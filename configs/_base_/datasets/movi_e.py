# MOVi-E: the MOVi-C setup (movi_c.py) on the movi_e shards (up to 23
# objects, camera motion).
_base_ = ['./movi_c.py']
data_root = 'data/movi_e'
train_dataloader = dict(
    dataset=dict(
        data_root=data_root, shards='movi_e-train-{000000..000304}.tar'))
test_dataloader = dict(
    dataset=dict(
        data_root=data_root, shards='movi_e-validation-{000000..000007}.tar'))
