#!/usr/bin/env bash
# Benchmark of `mlflow-guard serve`: a real `mlflow server` (one worker),
# the gateway built from this tree in front of it (plain HTTP on loopback,
# SQLite store), and bench/gateway (Go) measuring in one run:
#   - p50/p99 latency of runs/get and runs/log-batch: direct, through the
#     gateway with a token, and with cached Basic credentials;
#   - artifact upload/download throughput, direct vs gateway;
#   - the gateway's RSS before and its peak after the transfers.
# Writes bench/results/50-gateway.md. BENCH_N requests per mode and route
# (default 1000), BENCH_ARTIFACT_MB (default 1024).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
N=${BENCH_N:-1000}
MB=${BENCH_ARTIFACT_MB:-1024}
venv=${MLFLOW_GUARD_VENV:-$root/.venv}
[ -x "$venv/bin/mlflow" ] || { echo "no mlflow in $venv (run scripts/setup-pyenv.sh)" >&2; exit 1; }
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

go build -o "$work/mlflow-guard" ./cmd/mlflow-guard
go build -o "$work/gateway-bench" ./bench/gateway
mport=$(freeport)
setsid "$venv/bin/mlflow" server --host 127.0.0.1 --port "$mport" --workers 1 \
  --backend-store-uri "sqlite:///$work/mlflow.db" --artifacts-destination "$work/artifacts" --serve-artifacts \
  >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$mport/health" >/dev/null 2>&1 && break; sleep 0.5; done

pw="bench password 1234"
echo "$pw" | "$work/mlflow-guard" users create bench --password-stdin --data-dir "$work/guard"
token=$("$work/mlflow-guard" tokens create bench --data-dir "$work/guard" 2>/dev/null)
gport=$(freeport)
setsid "$work/mlflow-guard" serve --upstream "http://127.0.0.1:$mport" --listen "127.0.0.1:$gport" \
  --data-dir "$work/guard" --rate 100000 --burst 100000 --log-level warn 2>"$work/gateway.log" &
gpid=$!
pids+=($gpid)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$gport/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
table=$("$work/gateway-bench" -direct "http://127.0.0.1:$mport" -gateway "http://127.0.0.1:$gport" \
  -token "$token" -user bench -password "$pw" -n "$N" -artifact-mb "$MB" -gateway-pid "$gpid")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
mlflow_version=$("$venv/bin/python" -c 'import mlflow; print(mlflow.__version__)')
# The gateway's own cost, without MLflow's variance: a canned in-process
# upstream (see BenchmarkOverhead), three runs of 2000 requests each.
overhead=$(go test ./internal/gateway -run XXX -bench Overhead -benchtime 2000x -count 3 | grep '^Benchmark')
mkdir -p bench/results
{
  echo "## serve: latency added by the gateway, artifact throughput"
  echo
  echo "\`bench/gateway.sh\` on $(date -u +%Y-%m-%d): MLflow $mlflow_version (\`mlflow server\`, one worker,"
  echo "SQLite backend, local artifacts) direct and behind \`mlflow-guard serve\` (plain HTTP on"
  echo "loopback, SQLite store, every write audited). $N sequential requests per route and mode,"
  echo "interleaved in rounds of 25; keep-alive connections. Load average $load_before before, $load_after after."
  echo "nginx with \`auth_basic\` is not measured yet."
  echo
  echo "$table"
  echo
  echo "The gateway's own cost per request, against a canned in-process upstream"
  echo "(\`go test ./internal/gateway -bench Overhead -benchtime 2000x -count 3\`; ns/op is the mean"
  echo "round trip; the gateway's cost is gateway-token minus direct):"
  echo
  echo '```'
  echo "$overhead"
  echo '```'
} > bench/results/50-gateway.md
cat bench/results/50-gateway.md
