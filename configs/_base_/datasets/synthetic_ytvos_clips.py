# Synthetic set (tools/data/make_synthetic.py), YouTube-VOS layout: the
# clips of ytvos_clips.py, two per batch, loaded in the main process.
_base_ = ['./ytvos_clips.py']
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root='data/synthetic/YTVOS'))
