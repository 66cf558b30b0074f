# Test-time runtime shared by every test config: the video test loop
# (per-video numbers, results.json / per_video.csv) and a log line per video.
_base_ = ['./default_runtime.py']
test_cfg = dict(type='VideoTestLoop')
default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
