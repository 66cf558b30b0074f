#!/usr/bin/env bash
# The main job on mmsmtc's embedded default, on CPU:
#   1. installs mmsmtc into .venv if no Python here can import it,
#   2. generates the synthetic video benchmark under data/synthetic
#      (skipped when the same set is already there),
#   3. checks every layout of it with the dataset checker.
# Usage: bash tools/quickstart.sh [--regenerate]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

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

DATA=data/synthetic
if [ "${1:-}" = "--regenerate" ] || [ ! -f "$DATA/synthetic_meta.json" ]; then
    echo "== Generating the synthetic benchmark in $DATA"
    python tools/data/make_synthetic.py "$DATA" --overwrite
else
    echo "== Synthetic benchmark already in $DATA (--regenerate to rebuild)"
fi

echo "== Checking the dataset layouts"
python tools/data/check_dataset.py ytvos "$DATA/YTVOS" --allow-subset
python tools/data/check_dataset.py davis2017 "$DATA/DAVIS" --allow-subset
python tools/data/check_dataset.py davis2016 "$DATA/DAVIS" --allow-subset
python tools/data/check_dataset.py jhmdb "$DATA/JHMDB" --allow-subset
python tools/data/check_dataset.py vip "$DATA/VIP" --allow-subset
echo "== Done: the synthetic benchmark is ready in $DATA"
