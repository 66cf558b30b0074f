# DINOSAUR (DINOv2 ViT-B/14), COCO 2017 validation: every image a one-frame
# video; image FG-ARI and mBO at 224x224, pixels of several instances void
# (the official ignore_overlaps).
_base_ = ['../dinosaur/dinosaur_vit-b14-dinov2_1xb64-500k_coco-224x224.py']
model = dict(
    _delete_=True,
    type='ObjectDiscoverySegmentor',
    model={{_base_.model}},  # its data_preprocessor is unused
    post_processor=dict(
        type='SlotArgmaxPostProcessor', output_size=(224, 224)),
    size_multiple=14,
    test_seed=0)
# The video test loop (per-video rows in results.json / per_video.csv) and a
# log line per video; the test data and evaluator come with the training
# config's dataset base (configs/_base_/datasets/).
test_cfg = dict(type='VideoTestLoop')
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
