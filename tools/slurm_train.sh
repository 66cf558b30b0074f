#!/usr/bin/env bash
# Usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG [ARGS...]
# Environment: GPUS (total, default 8), GPUS_PER_NODE (default 8),
# CPUS_PER_TASK (default 5), SRUN_ARGS (extra srun arguments), PYTHON (the
# interpreter, default: `python`).
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "Usage: tools/slurm_train.sh PARTITION JOB_NAME CONFIG [ARGS...]" >&2
    exit 2
fi
TOOLS="$(cd "$(dirname "$0")" && pwd)"
exec bash "$TOOLS/launch_slurm.sh" "$1" "$2" "$TOOLS/train.py" "${@:3}"
