#!/usr/bin/env bash
# The main job on mmsmtc's embedded default, on CPU (about 2-4 minutes on
# 2 cores, plus about 2 for a first install): installs mmsmtc into .venv if
# no Python here can import it, then runs tools/quickstart.py, which
# generates and checks the synthetic set, trains the tiny SMTC, tests it
# against the untrained model (object discovery and label propagation),
# prints the comparison table and writes overlays and GIFs under
# work_dirs/quickstart.
# Usage: bash tools/quickstart.sh [--skip-install] [tools/quickstart.py options]
#        (python tools/quickstart.py --help lists them, e.g. --regenerate)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

if [ "${1:-}" = "--skip-install" ]; then
    shift
else
    if [ -x .venv/bin/python ]; then
        . .venv/bin/activate
    fi
    if ! python -c 'import mmsmtc' 2>/dev/null; then
        echo "== Installing mmsmtc into $ROOT/.venv"
        python3 -m venv .venv
        . .venv/bin/activate
        python -m pip install --upgrade pip
        pip install -e ".[tests]"
    fi
fi
exec python tools/quickstart.py "$@"
