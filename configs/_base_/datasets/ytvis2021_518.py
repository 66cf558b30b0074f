# YT-VIS 2021 for the DINOv2 ViT-B/14 model at 518x518
# (configs/videosaur/ytvis_dinov2.yml): the shards stored with short side
# 518 (`prepare_ytvis2021.py --short-side 518`), frames at 518, ground
# truth still scored at 224; 64 clips per batch.
_base_ = ['./ytvis2021.py']
data_root = 'data/ytvis2021_resized_518'
input_size = 518
train_dataloader = dict(
    batch_size=64,
    dataset=dict(
        data_root=data_root,
        pipeline=[
            dict(type='SampleAlignedChunk', chunk_len=4),
            dict(type='LoadShardSample', fields=('video', )),
            dict(type='ClipBicubicResize', short_side=input_size),
            dict(type='ClipRandomSquareCrop', size=input_size),
            dict(type='ClipRandomFlip', prob=0.5),
            dict(type='PackClipInputs'),
        ]))
test_dataloader = dict(
    dataset=dict(
        data_root=data_root,
        pipeline=[
            dict(type='LoadShardSample', fields=('video', 'segmentations')),
            dict(type='ShardSegmentationsToIds', layout='ytvis'),
            dict(type='ClipCenterFullCrop'),
            dict(type='ClipBicubicResize', size=input_size, mask_size=224),
            dict(type='PackShardVideoInputs'),
        ]))
