#!/usr/bin/env bash
# Benchmark of `mlflow-guard serve` against direct access and against nginx
# with auth_basic, all in front of one real `mlflow server` (one worker,
# SQLite backend, local artifacts) in one run:
#   - p50/p99 latency of runs/get and a 10-metric runs/log-batch: direct,
#     the gateway with a token, the gateway with (cached) Basic
#     credentials, nginx auth_basic (apr1 htpasswd); once in front of
#     MLflow, once in front of a canned stand-in that answers at once;
#   - the request policies on a 1,000-entry log-batch: the gateway against
#     a second gateway started with --no-policy (issue 12), requests to the
#     two interleaved, with p50/p99 of the per-request paired difference
#     and the load average before and after;
#   - 1 GiB artifact upload and download throughput against direct: the
#     gateway, the bare gateway (--no-policy: no upload scanning), nginx,
#     and a plain TCP relay (splice);
#   - the gateway's peak RSS during a 5 GiB upload;
#   - a soak (10 minutes; SOAK_SECONDS shortens it) with its error count
#     and the gateway's RSS at start and end;
#   - argon2id cost per password check and the gateway's own cost against
#     a canned in-process upstream (go test -bench).
# Gateways: plain HTTP on loopback, one SQLite store, every write audited,
# log level warn. Writes bench/results/50-gateway.md.
# MLflow's artifacts go to tmpfs when /dev/shm has room (BENCH_ARTIFACTS_ON_DISK=1: a disk directory).
# Knobs: BENCH_N (1000), BENCH_N_CANNED (5000), BENCH_N_POLICY (200), BENCH_ARTIFACT_MB (1024),
# BENCH_REPS (3), BENCH_BIG_MB (5120), SOAK_SECONDS (600), SOAK_WORKERS (4).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
N=${BENCH_N:-1000}
NC=${BENCH_N_CANNED:-5000}
NP=${BENCH_N_POLICY:-200}
MB=${BENCH_ARTIFACT_MB:-1024}
REPS=${BENCH_REPS:-3}
BIG=${BENCH_BIG_MB:-5120}
SOAK=${SOAK_SECONDS:-600}
SOAKW=${SOAK_WORKERS:-4}
venv=${MLFLOW_GUARD_VENV:-$root/.venv}
[ -x "$venv/bin/mlflow" ] || { echo "no mlflow in $venv (run scripts/setup-pyenv.sh)" >&2; exit 1; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "nginx is required (Debian: apt-get install nginx-light)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl is required (htpasswd hash)" >&2; exit 1; }
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true
work=$(mktemp -d)
# MLflow's artifact store on tmpfs when there is room: on disk, when the
# kernel's writeback of earlier uploads starts decides a run's upload
# speed (runs of one mode differed by 2x), which hides the proxies' cost.
art="$work/artifacts"
if [ -z "${BENCH_ARTIFACTS_ON_DISK:-}" ] && [ -d /dev/shm ] &&
  [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt $(((BIG + 4 * MB + 2048) * 1024)) ]; then
  art=$(mktemp -d /dev/shm/mlflow-guard-bench.XXXXXX)
fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  sleep 1
  rm -rf "$work" "$art"
}
trap cleanup EXIT
. "$root/bench/lib.sh"
read -r mport gport bport cport cgport nport ncport rport < <(ports 8)

go build -o "$work/mlflow-guard" ./cmd/mlflow-guard
go build -o "$work/gateway-bench" ./bench/gateway
setsid "$venv/bin/mlflow" server --host 127.0.0.1 --port "$mport" --workers 1 \
  --backend-store-uri "sqlite:///$work/mlflow.db" --artifacts-destination "$art" --serve-artifacts \
  >"$work/server.log" 2>&1 &
pids+=($!)
waitfor "http://127.0.0.1:$mport/health" "$work/server.log"

pw="bench password 1234"
echo "$pw" | "$work/mlflow-guard" users create bench --password-stdin --data-dir "$work/guard"
token=$("$work/mlflow-guard" tokens create bench --data-dir "$work/guard" 2>/dev/null)
# The measured gateway (policies on), and a bare one (--no-policy) on the
# same store for the policies' row.
setsid "$work/mlflow-guard" serve --upstream "http://127.0.0.1:$mport" --listen "127.0.0.1:$gport" \
  --data-dir "$work/guard" --rate 100000 --burst 100000 --log-level warn 2>"$work/gateway.log" &
gpid=$!
pids+=($gpid)
setsid "$work/mlflow-guard" serve --upstream "http://127.0.0.1:$mport" --listen "127.0.0.1:$bport" \
  --data-dir "$work/guard" --rate 100000 --burst 100000 --log-level warn --no-policy 2>"$work/bare.log" &
pids+=($!)
# A canned MLflow stand-in (constant answers, no work) with its own
# gateway and nginx server: the proxies' cost without MLflow's variance.
setsid "$work/gateway-bench" -canned "127.0.0.1:$cport" 2>"$work/canned.log" &
pids+=($!)
setsid "$work/mlflow-guard" serve --upstream "http://127.0.0.1:$cport" --listen "127.0.0.1:$cgport" \
  --data-dir "$work/guard" --rate 100000 --burst 100000 --log-level warn 2>"$work/canned-gateway.log" &
pids+=($!)
# A plain TCP relay (splice, no HTTP, no auth) in front of MLflow: the
# throughput floor of any proxy on this machine, for the throughput table.
setsid "$work/gateway-bench" -relay "127.0.0.1:$rport" -relay-to "127.0.0.1:$mport" 2>"$work/relay.log" &
pids+=($!)
waitfor "http://127.0.0.1:$gport/healthz" "$work/gateway.log"
waitfor "http://127.0.0.1:$bport/healthz" "$work/bare.log"
waitfor "http://127.0.0.1:$cport/health" "$work/canned.log"
waitfor "http://127.0.0.1:$cgport/healthz" "$work/canned-gateway.log"
waitfor "http://127.0.0.1:$rport/health" "$work/relay.log"

# nginx: auth_basic with an apr1 (htpasswd's default MD5) hash, streaming
# both ways through 256 KiB buffers, keep-alive upstream, one worker per
# core; a second server block in front of the canned stand-in.
mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
printf 'bench:%s\n' "$(openssl passwd -apr1 "$pw")" >"$work/nginx/htpasswd"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
cat >"$work/nginx/nginx.conf" <<EOF
$user_line
worker_processes auto;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  upstream mlflow { server 127.0.0.1:$mport; keepalive 16; }
  upstream canned { server 127.0.0.1:$cport; keepalive 16; }
  client_max_body_size 0;
  client_body_buffer_size 256k;
  proxy_buffer_size 256k;
  proxy_buffers 4 256k;
  proxy_busy_buffers_size 256k;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host \$host;
  proxy_request_buffering off;
  proxy_buffering off;
  proxy_read_timeout 600s;
  proxy_send_timeout 600s;
  auth_basic "mlflow";
  auth_basic_user_file $work/nginx/htpasswd;
  server {
    listen 127.0.0.1:$nport;
    location / { proxy_pass http://mlflow; }
  }
  server {
    listen 127.0.0.1:$ncport;
    location / { proxy_pass http://canned; }
  }
}
EOF
"$nginx" -t -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>"$work/nginx/test.log" || { cat "$work/nginx/test.log" >&2; exit 1; }
setsid "$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
for _ in $(seq 1 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nport/health")" = 401 ] && break; sleep 0.1; done

nginx_version=$("$nginx" -v 2>&1 | sed 's/.*nginx\///')
mlflow_version=$("$venv/bin/python" -c 'import mlflow; print(mlflow.__version__)')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench() {
  "$work/gateway-bench" -direct "http://127.0.0.1:$mport" -gateway "http://127.0.0.1:$gport" \
    -bare "http://127.0.0.1:$bport" -nginx "http://127.0.0.1:$nport" \
    -token "$token" -user bench -password "$pw" -gateway-pid "$gpid" "$@"
}
lat=$(bench -phase latency -n "$N")
canned_lat=$("$work/gateway-bench" -phase latency -n "$NC" -upstream-label "a canned MLflow stand-in (constant answers, no work)" \
  -direct "http://127.0.0.1:$cport" -gateway "http://127.0.0.1:$cgport" -nginx "http://127.0.0.1:$ncport" \
  -token "$token" -user bench -password "$pw")
pol=$(bench -phase policy -n-policy "$NP")
thr=$(bench -phase throughput -artifact-mb "$MB" -reps "$REPS" -relay-url "http://127.0.0.1:$rport")
rm -rf "$art"/*/bench 2>/dev/null || true
rss=$(bench -phase rss -big-mb "$BIG")
rm -rf "$art"/*/bench 2>/dev/null || true
soak=$(bench -phase soak -soak "${SOAK}s" -soak-workers "$SOAKW")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
gateway_errors=$(grep -c '"level":"ERROR"' "$work/gateway.log" || true)
# The gateway's own cost without MLflow's variance (canned in-process
# upstream), and what one argon2id password check costs.
overhead=$(go test ./internal/gateway -run '^$' -bench Overhead -benchtime 3000x -count 3 | grep '^Benchmark')
auditcost=$(go test ./internal/store -run '^$' -bench Audit -benchtime 3000x -count 1 | grep '^Benchmark')
argon=$(go test ./internal/store -run '^$' -bench CheckPassword -benchtime 20x -count 3 | grep '^Benchmark')
params=$(grep -E '^\s+argon(Time|Memory|Threads|KeyLen)\s' internal/store/password.go | tr -s ' \t' ' ' | paste -sd';')
mkdir -p bench/results
{
  echo "## serve: the gateway against direct access and nginx auth_basic (issues 11 and 12)"
  echo
  echo "\`bench/gateway.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores: MLflow $mlflow_version (\`mlflow server\`, one worker,"
  echo "SQLite backend, local artifacts in $( [ "$art" = "$work/artifacts" ] && echo "a disk directory" || echo "tmpfs")); \`mlflow-guard serve\` built from this tree (plain HTTP on loopback,"
  echo "SQLite store with synchronous=NORMAL, every write audited, default policies on, log level warn);"
  echo "nginx $nginx_version with \`auth_basic\` (apr1 htpasswd hash), keep-alive upstream, request and response"
  echo "buffering off. One client process, keep-alive connections, the modes' requests interleaved one by"
  echo "one in a rotating order. Load average $load_before at the start, $load_after at the end."
  echo
  echo "$lat"
  echo
  echo "$canned_lat"
  echo
  echo "$pol"
  echo
  echo "$thr"
  echo
  echo "$rss"
  echo
  echo "$soak"
  echo
  echo "Gateway log lines at level ERROR during the whole run: $gateway_errors."
  echo
  echo "### The gateway's own cost, without MLflow's variance"
  echo
  echo "Canned in-process upstream (\`go test ./internal/gateway -bench Overhead -benchtime 3000x -count 3\`;"
  echo "ns/op is the mean round trip, the gateway's cost is gateway-token minus direct). One audit"
  echo "commit on SQLite, sequential and with 16 concurrent writers sharing group commits, with the default"
  echo "\`--sqlite-sync normal\` and with \`full\` (\`go test ./internal/store -bench Audit\`):"
  echo
  echo '```'
  echo "$overhead"
  echo "$auditcost"
  echo '```'
  echo
  echo "### argon2id"
  echo
  echo "One password check (\`go test ./internal/store -bench CheckPassword\`), parameters: $params."
  echo "A Basic login pays it once; the verified credentials are then cached (keyed hash) for a minute."
  echo
  echo '```'
  echo "$argon"
  echo '```'
} > bench/results/50-gateway.md
cat bench/results/50-gateway.md
