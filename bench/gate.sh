#!/usr/bin/env bash
# Benchmark of the data gates in `mlflow-guard serve` (issue 12): a real
# `mlflow server` (one worker, local artifacts), and two gateways built from
# this tree in front of it:
#   - bare: a policy file that turns upload scanning and the registration
#     gate off (uploads.mode: off, registration.mode: off);
#   - scan: the defaults (every upload sniffed, spooled to the system temp
#     directory on disk and judged by the model analyzer; every
#     model-versions/create gated);
#   - scan-tmpfs: the same with uploads.spool_dir on /dev/shm (memory), to
#     show what the disk spool costs.
# Measures, interleaved in rounds:
#   - upload throughput of a 1 GB torch-format checkpoint (PUT through the
#     artifact proxy with curl): direct, bare, scan;
#   - model-versions/create of that checkpoint: bare (no gate) and scan (the
#     gate lists, downloads, hashes and scans it, then tags the version).
# The checkpoint is written by bench/gate_torch.py (torch.save's zip layout
# made with zipfile and pickle; torch is not in the test venv).
# Writes bench/results/52-gate.md. BENCH_GATE_MB (default 1024), BENCH_ROUNDS (3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MB=${BENCH_GATE_MB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
venv=${MLFLOW_GUARD_VENV:-$root/.venv}
[ -x "$venv/bin/mlflow" ] || { echo "no mlflow in $venv (run scripts/setup-pyenv.sh)" >&2; exit 1; }
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  sleep 1
  rm -rf "$work" "${shm:-}"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }

go build -o "$work/mlflow-guard" ./cmd/mlflow-guard
# The upload source lives in memory (it is only read by curl), which
# leaves the disk to MLflow's artifact store and the gateway's spool.
shm=$(mktemp -d /dev/shm/gate-bench.XXXXXX)
model=$shm/model.pt
"$venv/bin/python" bench/gate_torch.py "$model" "$MB" >/dev/null
size=$(stat -c %s "$model")
mport=$(freeport)
setsid "$venv/bin/mlflow" server --host 127.0.0.1 --port "$mport" --workers 1 \
  --backend-store-uri "sqlite:///$work/mlflow.db" --artifacts-destination "$work/artifacts" --serve-artifacts \
  >"$work/server.log" 2>&1 &
pids+=($!)
up="http://127.0.0.1:$mport"
for _ in $(seq 1 600); do curl -sf "$up/health" >/dev/null 2>&1 && break; sleep 0.5; done

printf 'uploads:\n  mode: "off"\nregistration:\n  mode: "off"\n' >"$work/bare.yaml"
: >"$work/scan.yaml"
mkdir "$shm/spool"
printf 'uploads:\n  spool_dir: "%s"\n' "$shm/spool" >"$work/scan-tmpfs.yaml"
pw="bench password 1234"
declare -A gw tok
for mode in bare scan scan-tmpfs; do
  echo "$pw" | "$work/mlflow-guard" users create bench --admin --password-stdin --data-dir "$work/guard-$mode"
  tok[$mode]=$("$work/mlflow-guard" tokens create bench --data-dir "$work/guard-$mode" 2>/dev/null)
  port=$(freeport)
  setsid "$work/mlflow-guard" serve --upstream "$up" --listen "127.0.0.1:$port" --policy "$work/$mode.yaml" \
    --data-dir "$work/guard-$mode" --rate 100000 --burst 100000 --log-level warn 2>"$work/gateway-$mode.log" &
  pids+=($!)
  gw[$mode]="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -sf "${gw[$mode]}/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
done

exp=$(curl -sf -X POST "$up/api/2.0/mlflow/experiments/create" -H 'Content-Type: application/json' -d '{"name":"gate-bench"}' | jget experiment_id)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A up_s
for r in $(seq 1 "$ROUNDS"); do
  for mode in direct bare scan scan-tmpfs; do
    base=$up; auth=()
    if [ "$mode" != direct ]; then base=${gw[$mode]}; auth=(-H "Authorization: Bearer ${tok[$mode]}"); fi
    p="$exp/upload/$mode-$r/model.pt"
    out=$(curl -s -o "$work/resp" -w '%{http_code} %{time_total}' -H 'Expect:' -T "$model" "${auth[@]}" "$base/api/2.0/mlflow-artifacts/artifacts/$p")
    read -r code secs <<<"$out"
    [ "$code" = 200 ] || { echo "upload $mode: HTTP $code $(head -c 300 "$work/resp")" >&2; exit 1; }
    up_s[$mode]="${up_s[$mode]:-} $secs"
    curl -sf -X DELETE "$up/api/2.0/mlflow-artifacts/artifacts/$p" >/dev/null
  done
done

# Registration: the checkpoint in a run, registered through each gateway.
run=$(curl -sf -X POST "$up/api/2.0/mlflow/runs/create" -H 'Content-Type: application/json' -d "{\"experiment_id\":\"$exp\"}" | jget run.info.run_id)
curl -sf -H 'Expect:' -T "$model" "$up/api/2.0/mlflow-artifacts/artifacts/$exp/$run/artifacts/model/model.pt" >/dev/null
curl -sf -X POST "$up/api/2.0/mlflow/registered-models/create" -H 'Content-Type: application/json' -d '{"name":"gate-bench"}' >/dev/null
declare -A reg_s
for r in $(seq 1 "$ROUNDS"); do
  for mode in bare scan; do
    out=$(curl -s -o "$work/resp" -w '%{http_code} %{time_total}' -X POST -H "Authorization: Bearer ${tok[$mode]}" -H 'Content-Type: application/json' \
      -d "{\"name\":\"gate-bench\",\"source\":\"runs:/$run/model\",\"run_id\":\"$run\"}" "${gw[$mode]}/api/2.0/mlflow/model-versions/create")
    read -r code secs <<<"$out"
    [ "$code" = 200 ] || { echo "register $mode: HTTP $code $(head -c 300 "$work/resp")" >&2; exit 1; }
    reg_s[$mode]="${reg_s[$mode]:-} $secs"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
ver=$(jget model_version.version <"$work/resp")
digest=$(curl -sf "$up/api/2.0/mlflow/model-versions/get?name=gate-bench&version=$ver" | python3 -c '
import json,sys; t={x["key"]:x["value"] for x in json.load(sys.stdin)["model_version"].get("tags",[])}; print(t.get("mlflow-guard.verdict"), t.get("mlflow-guard.digest"))')

table=$(python3 - "$size" "${up_s[direct]}" "${up_s[bare]}" "${up_s[scan]}" "${reg_s[bare]}" "${reg_s[scan]}" "${up_s[scan-tmpfs]}" <<'PY'
import statistics, sys
size = int(sys.argv[1]); mb = size / 1e6
f = lambda s: [float(x) for x in s.split()]
d, b, s, rb, rs, st = (f(a) for a in sys.argv[2:8])
med = statistics.median
print("| upload of the checkpoint | median s | median MB/s | rounds (s) |")
print("|---|---:|---:|---|")
for name, xs in (("direct to MLflow", d), ("bare gateway (scanning off)", b), ("gateway, upload scanning on (spool on disk, the default)", s), ("gateway, upload scanning on, spool on tmpfs", st)):
    print(f"| {name} | {med(xs):.2f} | {mb/med(xs):.0f} | {', '.join(f'{x:.2f}' for x in xs)} |")
print()
print(f"Upload throughput with scanning: **{med(b)/med(s)*100:.0f}%** of the bare gateway with the spool on disk, {med(b)/med(st)*100:.0f}% with it on tmpfs (target >= 90%); bare gateway {med(d)/med(b)*100:.0f}% of direct.")
print()
print("| model-versions/create of the checkpoint | median s | rounds (s) |")
print("|---|---:|---|")
print(f"| bare gateway (gate off) | {med(rb):.2f} | {', '.join(f'{x:.2f}' for x in rb)} |")
print(f"| gateway, registration gate on | {med(rs):.2f} | {', '.join(f'{x:.2f}' for x in rs)} |")
print()
print(f"The gate's own time on the {mb:.0f} MB model: **{med(rs)-med(rb):.2f} s** (median difference).")
PY
)
mlflow_version=$("$venv/bin/python" -c 'import mlflow; print(mlflow.__version__)')
mkdir -p bench/results
{
  echo "## serve: upload scanning and the registration gate"
  echo
  echo "\`bench/gate.sh\` on $(date -u +%Y-%m-%d): MLflow $mlflow_version (\`mlflow server\`, one worker, SQLite"
  echo "backend, local artifacts), direct and behind two \`mlflow-guard serve\` instances on loopback (token auth,"
  echo "admin user, every write audited): *bare* with \`uploads.mode: off\` and \`registration.mode: off\`, *scan* with"
  echo "the defaults, *scan-tmpfs* with \`uploads.spool_dir\` on /dev/shm. The model is a $size-byte torch-format checkpoint written by \`bench/gate_torch.py\`"
  echo "(torch.save's zip layout with zipfile and pickle, every member sized by a data descriptor as torch's miniz writes them: torch is not in the venv; the file is read from /dev/shm). Uploads are \`curl -T\`,"
  echo "$ROUNDS interleaved rounds. Load average $load_before before, $load_after after. Last version's tags: $digest."
  echo
  echo "$table"
} > bench/results/52-gate.md
cat bench/results/52-gate.md
