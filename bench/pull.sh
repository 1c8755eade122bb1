#!/usr/bin/env bash
# Issue-13 benchmark: `mlflow-guard pull` of a 1 GB model version against
# `mlflow artifacts download` plus a separate picklescan run. Starts the
# pinned MLflow server from the test virtualenv on a free loopback port,
# with its store under bench/work/pull (gitignored). Writes
# bench/results/60-pull.md, then assembles BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${MLFLOW_GUARD_VENV:-$root/.venv}
work=$root/bench/work/pull
rm -rf "$work"
mkdir -p "$work" "$root/bench/results"
if [ ! -x "$venv/bin/picklescan" ]; then
  "$venv/bin/pip" install --quiet "$(grep '^picklescan==' "$root/scripts/requirements-test.txt")"
fi
cd "$root"
go build -o "$work/mlflow-guard" ./cmd/mlflow-guard
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Its own session, so the uvicorn workers it forks are stopped with it.
MLFLOW_DISABLE_TELEMETRY=true setsid "$venv/bin/mlflow" server --host 127.0.0.1 --port "$port" --workers 1 \
  --backend-store-uri "sqlite:///$work/mlflow.db" --artifacts-destination "$work/artifacts" \
  --serve-artifacts >"$work/server.log" 2>&1 &
server=$!
trap 'kill -- -"$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work/artifacts" "$work/dl" "$work/pulled" "$work/src"' EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 1
done
load0=$(cut -d' ' -f1-3 /proc/loadavg)
MLFLOW_TRACKING_URI="http://127.0.0.1:$port" MLFLOW_DISABLE_TELEMETRY=true \
  "$venv/bin/python" bench/pull_bench.py "$work/mlflow-guard" "$work" bench/results/60-pull.md
echo "Run $(date -u '+%Y-%m-%d %H:%M') UTC; load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)." >> bench/results/60-pull.md
if [ -x bench/assemble.sh ]; then bench/assemble.sh; fi
