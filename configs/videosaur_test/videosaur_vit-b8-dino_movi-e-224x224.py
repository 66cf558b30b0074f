# VideoSAUR, MOVi-E validation: 250 videos of 24 frames, each in one
# recurrent pass; video FG-ARI and mBO at 224x224 (the official evaluation, see
# docs/videosaur_data.md).
_base_ = ['../videosaur/videosaur_vit-b8-dino_1xb128-100k_movi-e-224x224.py']
model = dict(
    _delete_=True,
    type='ObjectDiscoverySegmentor',
    model={{_base_.model}},  # its data_preprocessor is unused
    post_processor=dict(
        type='SlotArgmaxPostProcessor', output_size=(224, 224)),
    size_multiple=8,
    test_seed=0)
# The video test loop (per-video rows in results.json / per_video.csv) and a
# log line per video; the test data and evaluator come with the training
# config's dataset base (configs/_base_/datasets/).
test_cfg = dict(type='VideoTestLoop')
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
