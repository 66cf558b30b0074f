# NOT the protocol: the subset of YT-VIS chunks the official VideoSAUR code
# scores (its loader stops after 14 batches of 16: 224 six-frame chunks, the
# first chunks of the shards each of its 8 workers reads; see
# official_partial_chunks in mmsmtc/datasets/video_shard_dataset.py). Use it
# only to compare with numbers produced by the official evaluation script.
_base_ = ['./videosaur_vit-b16-dino_ytvis2021-224x224.py']
test_dataloader = dict(
    dataset=dict(
        official_partial_scoring=dict(
            val_size=200, num_workers=8, batch_size=16)))
