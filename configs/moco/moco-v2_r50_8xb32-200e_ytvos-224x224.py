# MoCo v2 on YouTube-VOS frames instead of ImageNet: one random frame per
# training video and epoch (3471 per epoch), two views of it.
_base_ = ['./moco-v2_r50_8xb32-200e_in1k-224x224.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='YTVOSClipDataset',
        data_root='data/YTVOS',
        num_frames=1,
        gap=1,
        pipeline={{_base_.train_pipeline}}))
