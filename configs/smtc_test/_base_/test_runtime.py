# Test-time runtime shared by every config of configs/smtc_test: the video
# test loop (per-video numbers, results.json / per_video.csv) and a log line
# per video.
_base_ = ['../../_base_/default_runtime.py']
test_cfg = dict(type='VideoTestLoop')
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
