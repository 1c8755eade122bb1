#!/usr/bin/env bash
# Issue-4 benchmark: model-artifact scanning by mlflow-guard, picklescan,
# modelscan and fickling on the same generated files (a 10 MB opcode-dense
# pickle, 1 GB and 1 MB torch zip checkpoints, 1,000 small models in fixture
# families). Inputs and the tools' venv live in bench/work/ (gitignored).
# Writes bench/results/30-model-scan.md, then assembles BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/bench/work
PY=${PYTHON:-python3}
venv=$work/model-tools
want="picklescan==1.0.5 modelscan==0.8.8 fickling==0.1.12 typing_extensions"
mkdir -p "$work" "$root/bench/results"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.bench-stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $want
  echo "$want" > "$venv/.bench-stamp"
fi
cd "$root"
go build -o "$work/mlflow-guard" ./cmd/mlflow-guard
if [ ! -f "$work/model/ckpt_1g.pt" ]; then
  go run ./internal/analyze/model/internal/benchgen "$work/model"
fi
load0=$(cut -d' ' -f1-3 /proc/loadavg)
"$venv/bin/python" bench/model_bench.py "$work/mlflow-guard" "$venv" "$work/model" bench/results/30-model-scan.md
# The cores are shared: record the load (1/5/15 min) around the run.
echo "Run $(date -u '+%Y-%m-%d %H:%M') UTC; load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)." >> bench/results/30-model-scan.md
if [ -x bench/assemble.sh ]; then bench/assemble.sh; fi
