#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG GPUS [ARGS...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT in the environment.
# PYTHON: the interpreter (default: `python` on PATH).
# On CPU-only machines the processes use the gloo backend.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "Usage: tools/dist_train.sh CONFIG GPUS [ARGS...]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
TOOLS="$(cd "$(dirname "$0")" && pwd)"
exec bash "$TOOLS/launch_torchrun.sh" "$GPUS" "$TOOLS/train.py" "$CONFIG" "$@"
