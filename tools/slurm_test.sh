#!/usr/bin/env bash
# Usage: tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [ARGS...]
# Videos are split across the tasks and the results gathered on the CPU.
# Environment: GPUS (total, default 8), GPUS_PER_NODE (default 8),
# CPUS_PER_TASK (default 5), SRUN_ARGS (extra srun arguments), PYTHON (the
# interpreter, default: `python`).
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "Usage: tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [ARGS...]" >&2
    exit 2
fi
TOOLS="$(cd "$(dirname "$0")" && pwd)"
exec bash "$TOOLS/launch_slurm.sh" "$1" "$2" "$TOOLS/test.py" "${@:3}"
