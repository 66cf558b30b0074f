# Object discovery on DAVIS / SegTrack-v2 / FBMS with the YT-VIS VideoSAUR
# (DINO ViT-B/16): whole videos at their own frame size, resized to the
# model's 224x224 input (the grid of its decoder's position embedding), each
# video in one recurrent stream of slots; slot masks -> at most 20 objects
# with identities over the video (ObjectDiscoveryPostProcessor,
# docs/object_discovery.md). VideoSAUR's slots are recurrent, so the slot
# index carries identity (same_mask_weight); its masks have no scores.
# The leaves replace the test data and evaluator by those of the benchmark
# (the dataset bases of configs/_base_/datasets/ cannot be inherited next to
# a training config: both define test_dataloader).
_base_ = ['../videosaur_vit-b16-dino_ytvis2021-224x224.py']
videosaur_discovery = dict(
    type='ObjectDiscoveryPostProcessor',
    max_proposals=20,
    score_threshold=0.0,
    min_area=0.001,
    background_rule='border',
    num_background_groups=1,
    same_mask_weight=1.0)
model = dict(
    input_size=(224, 224),
    post_processor=dict(_delete_=True, **videosaur_discovery))
video_test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='mmsmtc.video_collate'))
video_test_pipeline = [
    dict(type='LoadVideoFrames'),
    dict(type='LoadVideoAnnotations'),
    dict(type='PackVideoInputs'),
]
