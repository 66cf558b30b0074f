#!/usr/bin/env bash
# Usage: tools/benchmarks/gpu_check.sh [OUT_DIR]
# The GPU checks of mmsmtc, about 10 minutes on one H100/H200, in five
# steps:
#   1. the CUDA tests (pytest -m gpu);
#   2. the SMTC ViT-S/16 training step at batch 32 in both phases (encoder
#      frozen and trainable), mmsmtc against the official-equivalent step,
#      with peak GPU memory and --check-sync (host synchronisations inside
#      the mmsmtc step, reported by torch.cuda.set_sync_debug_mode);
#   3. the VideoSAUR MOVi-C training step (frozen ViT-B/8 at 224, 4-frame
#      clips) at the official batch of 128 clips, mmsmtc against the
#      official-equivalent step and the one with torch 1.13's attention,
#      with peak GPU memory;
#   4. label propagation on the GPU at 480p (judo) and 1080p, stride 8,
#      radius 35, with peak GPU memory, against the dense algorithm;
#   5. a short AMP training run of the ViT-S/16 config on a generated
#      synthetic set (random encoder: no weights can be downloaded).
# Every step's full output goes to OUT_DIR (default work_dirs/gpu_check);
# the figures the README quotes are the summary lines printed at the end.
# Run it with the Python that has mmsmtc installed (PYTHON=..., default
# python); it needs a CUDA device and no network.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/work_dirs/gpu_check}"
PYTHON="${PYTHON:-python}"
mkdir -p "$OUT"
cd "$ROOT"
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0), 'torch', torch.__version__)" | tee "$OUT/device.txt"

step() {  # step NAME SECONDS COMMAND...: run with a time limit, keep going on failure
    local name=$1 limit=$2
    shift 2
    echo "== $name (at most ${limit} s)"
    local start=$SECONDS status=0
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1 || status=$?
    echo "   exit $status after $((SECONDS - start)) s, log $OUT/$name.log"
    tail -n 15 "$OUT/$name.log"
}

step cuda_tests 90 "$PYTHON" -m pytest -q -m gpu -p no:cacheprovider
step train_step 150 "$PYTHON" tools/benchmarks/bench_train_step.py \
    --device cuda --batch-size 32 --steps 5 --repeats 2 --check-sync
step videosaur_train_step 240 "$PYTHON" \
    tools/benchmarks/bench_videosaur_train_step.py --device cuda \
    --batch-size 128 --steps 3 --repeats 2
step propagation 120 "$PYTHON" tools/benchmarks/bench_propagation.py \
    --device cuda --cases judo-s8-r35 1080p-s8-r35 --frames 3 \
    --steady-frames 2
SYNTH="$OUT/synthetic"
step amp_training 120 bash -c "\"$PYTHON\" tools/data/make_synthetic.py \
    \"$SYNTH\" --train 16 --val 2 --frames 8 --size 256x256 --overwrite && \
    \"$PYTHON\" tools/train.py configs/smtc/smtc_vit-s16_4xb32-10k_ytvos-256x256.py \
    --amp --work-dir \"$OUT/amp_training\" --cfg-options \
    model.backbone.init_cfg=None \
    train_dataloader.dataset.data_root=\"$SYNTH/YTVOS\" \
    train_dataloader.batch_size=8 train_dataloader.num_workers=2 \
    train_cfg.max_iters=60 model.frozen_backbone_iters=30 \
    default_hooks.logger.interval=10 default_hooks.checkpoint.interval=60"
echo "== done: logs in $OUT"
