#!/usr/bin/env bash
# Usage: tools/launch_slurm.sh PARTITION JOB_NAME SCRIPT [ARGS...]
# Runs SCRIPT (a Python tool) as one srun task per GPU with
# `--launcher slurm`; tools/slurm_train.sh and tools/slurm_test.sh call it.
# Environment: GPUS (total, default 8), GPUS_PER_NODE (default 8),
# CPUS_PER_TASK (default 5), SRUN_ARGS (extra srun arguments), PYTHON (the
# interpreter each task runs, default: `python` on the nodes' PATH).
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
SCRIPT=$3
shift 3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="${CPUS_PER_TASK:-5}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS:-} \
    "${PYTHON:-python}" -u "$SCRIPT" "$@" --launcher slurm
