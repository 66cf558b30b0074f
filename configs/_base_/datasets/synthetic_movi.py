# The synthetic MOVi-format shards (tools/data/make_synthetic_movi.py into
# data/synthetic/movi): the MOVi-C pipelines of movi_c.py at a small input
# size for a tiny CPU model, two clips per batch, loaded in the main
# process. Scored at the input size (not the 224x224 of MOVi).
_base_ = ['./movi_c.py']
data_root = 'data/synthetic/movi'
input_size = 64
train_pipeline = [
    dict(type='SampleAlignedChunk', chunk_len=4),
    dict(type='LoadShardSample', fields=('video', )),
    dict(type='ClipBicubicResize', size=input_size),
    dict(type='ClipRandomFlip', prob=0.5),
    dict(type='PackClipInputs'),
]
test_pipeline = [
    dict(type='LoadShardSample', fields=('video', 'segmentations')),
    dict(type='ShardSegmentationsToIds', layout='movi'),
    dict(type='ClipBicubicResize', size=input_size),
    dict(type='PackShardVideoInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        shards='movi_c-train-*.tar',
        pipeline=train_pipeline))
test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        shards='movi_c-validation-*.tar',
        pipeline=test_pipeline))
