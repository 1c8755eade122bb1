#!/usr/bin/env bash
# Where a 1 GiB artifact transfer's CPU goes: the seconds of CPU (user +
# system, from /proc/PID/stat) that MLflow and the gateway spend on one
# 1 GiB upload and one 1 GiB download, direct and through the gateway,
# three rounds. MLflow (`mlflow server`, one worker, SQLite backend,
# artifacts on tmpfs) and the gateway (this tree, policies on) run on
# loopback; the client is curl. Prints one line per transfer; writes
# nothing. Companion of bench/gateway.sh, whose throughput table it
# explains. Usage: bench/gateway-cpu.sh [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rounds=${1:-3}
venv=${MLFLOW_GUARD_VENV:-$root/.venv}
[ -x "$venv/bin/mlflow" ] || { echo "no mlflow in $venv (run scripts/setup-pyenv.sh)" >&2; exit 1; }
work=$(mktemp -d)
art=$(mktemp -d /dev/shm/mlflow-guard-cpu.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || true; done
  sleep 1
  rm -rf "$work" "$art"
}
trap cleanup EXIT
. "$root/bench/lib.sh"
read -r mport gport < <(ports 2)
ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }

go build -o "$work/mlflow-guard" ./cmd/mlflow-guard
truncate -s 1G "$work/blob"
MLFLOW_DISABLE_TELEMETRY=true setsid "$venv/bin/mlflow" server --host 127.0.0.1 --port "$mport" --workers 1 \
  --backend-store-uri "sqlite:///$work/mlflow.db" --artifacts-destination "$art" --serve-artifacts >"$work/server.log" 2>&1 &
pids+=($!)
waitfor "http://127.0.0.1:$mport/health" "$work/server.log"
echo "bench password 1234" | "$work/mlflow-guard" users create bench --password-stdin --data-dir "$work/guard" >/dev/null
token=$("$work/mlflow-guard" tokens create bench --data-dir "$work/guard" 2>/dev/null)
setsid "$work/mlflow-guard" serve --upstream "http://127.0.0.1:$mport" --listen "127.0.0.1:$gport" \
  --data-dir "$work/guard" --rate 100000 --burst 100000 --log-level warn 2>"$work/gateway.log" &
gpid=$!
pids+=($gpid)
waitfor "http://127.0.0.1:$gport/healthz" "$work/gateway.log"
# uvicorn serves MLflow in a child process of `mlflow server`.
upid=$(pgrep -f "uvicorn.*--port $mport" | head -1)
exp=$(curl -s -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"name":"cpu"}' \
  "http://127.0.0.1:$gport/api/2.0/mlflow/experiments/create" | python3 -c 'import sys, json; print(json.load(sys.stdin)["experiment_id"])')
echo "1 GiB transfers, CPU seconds per transfer (user+system); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  for mode in direct gateway; do
    base="http://127.0.0.1:$mport"
    [ "$mode" = gateway ] && base="http://127.0.0.1:$gport"
    url="$base/api/2.0/mlflow-artifacts/artifacts/$exp/blob-$mode"
    g0=$(cpu "$gpid"); u0=$(cpu "$upid")
    up=$(curl -sf -T "$work/blob" -X PUT -H "Authorization: Bearer $token" -o /dev/null -w '%{speed_upload}' "$url")
    g1=$(cpu "$gpid"); u1=$(cpu "$upid")
    down=$(curl -sf -H "Authorization: Bearer $token" -o /dev/null -w '%{speed_download}' "$url")
    g2=$(cpu "$gpid"); u2=$(cpu "$upid")
    awk -v r="$r" -v m="$mode" -v up="$up" -v down="$down" -v g0="$g0" -v g1="$g1" -v g2="$g2" -v u0="$u0" -v u1="$u1" -v u2="$u2" 'BEGIN {
      printf "round %d %-7s | upload %4.0f MB/s, MLflow %.2f s, gateway %.2f s | download %4.0f MB/s, MLflow %.2f s, gateway %.2f s\n",
        r, m, up / 1e6, u1 - u0, g1 - g0, down / 1e6, u2 - u1, g2 - g1 }'
    rm -f "$art"/*/"blob-$mode"
  done
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
