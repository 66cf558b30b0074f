#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [ARGS...]
# CHECKPOINT may be 'none' (see tools/test.py). Videos are split across the
# GPUS processes and the results gathered on the CPU.
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT in the environment.
# PYTHON: the interpreter (default: `python` on PATH).
# On CPU-only machines the processes use the gloo backend.
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [ARGS...]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3
TOOLS="$(cd "$(dirname "$0")" && pwd)"
exec bash "$TOOLS/launch_torchrun.sh" "$GPUS" "$TOOLS/test.py" "$CONFIG" \
    "$CHECKPOINT" "$@"
