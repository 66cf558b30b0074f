#!/usr/bin/env bash
# Usage: tools/launch_torchrun.sh NPROC_PER_NODE SCRIPT [ARGS...]
# Runs SCRIPT (a Python tool) in NPROC_PER_NODE processes per node with
# torchrun; tools/dist_train.sh and tools/dist_test.sh call it.
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT in the environment.
# PYTHON: the interpreter to run (default: `python` on PATH), e.g.
# PYTHON=.venv/bin/python when the virtual environment is not activated.
set -euo pipefail
NPROC=$1
SCRIPT=$2
shift 2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
"${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" \
    --master_port="${PORT:-29500}" \
    "$SCRIPT" "$@" --launcher pytorch
