#!/usr/bin/env bash
# Builds the repository's Dockerfile as it is and runs examples/deploy-guarded
# with its compose file, against a real Docker daemon:
#   image    docker build -t mlflow-guard:test . ; USER 65532 and a process
#            that runs as 65532; no shell; `version` prints VERSION; `scan`
#            of examples/ on a read-only root fs gives the same findings as
#            the host's binary on the same tree; `scan` of the Dockerfile and
#            of examples/deploy-guarded is clean; image size.
#   compose  build and `up -d` of examples/deploy-guarded (PostgreSQL with
#            TLS, MLflow, the gateway on TLS); wait for health; a token made
#            with `compose exec guard ...`; the real MLflow client from
#            $MLFLOW_GUARD_VENV logs a run, a param, a metric and an artifact
#            over https (the example's CA) and reads them back; the param is
#            then read from PostgreSQL; an anonymous request gets 401; a
#            secret-looking param is refused (403, MLG201) and not stored;
#            MLflow's own port is not reachable from the host; `down -v`.
#
# Base images: where no registry is reachable, scripts/docker-local-bases.sh
# builds local stand-ins under the names the Dockerfile and the compose file
# use (it says so in its output); otherwise the real images are pulled.
#
# Not part of CI (CI machines have no Docker daemon): with CI=true it skips
# unless MLFLOW_GUARD_DOCKER=1. Without CI it starts Debian's dockerd (vfs
# storage, data in $DOCKERD_DATA, default /tmp/dockerd-data) when none
# answers, and skips with a message when there is no dockerd at all (fails
# instead under MLFLOW_GUARD_DOCKER=1).
#
# Usage: scripts/docker-smoke.sh [--image-only] [--no-build]
# Compose: `docker compose` (v2+) if present, else Debian's docker-compose
# (apt-get install docker-compose).
# Env: MLFLOW_GUARD_VENV (default .venv), DOCKER_BUILD_NETWORK (e.g. host, if
#      the bridge network cannot reach the Go module proxy), GUARD_PORT
#      (the port the compose file publishes, 8443).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ex=$root/examples/deploy-guarded
say() { printf 'docker-smoke: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
skip() {
  if [ "${MLFLOW_GUARD_DOCKER:-}" = 1 ]; then fail "$* (MLFLOW_GUARD_DOCKER=1 requires the run)"; fi
  say "SKIP: $*"; exit 0
}
image_only=0
build=1
for a in "$@"; do
  case "$a" in
    --image-only) image_only=1 ;;
    # use an mlflow-guard:test built before from this tree (with the vfs
    # driver a cached rebuild still takes minutes: COPY --from copies the
    # build stage)
    --no-build) build=0 ;;
    *) fail "unknown argument $a" ;;
  esac
done
if [ "${CI:-}" = true ] && [ "${MLFLOW_GUARD_DOCKER:-}" != 1 ]; then
  skip "CI=true and MLFLOW_GUARD_DOCKER is not 1: CI machines have no Docker daemon"
fi
t0=$(date +%s)
lap() { printf '%ss' $(( $(date +%s) - $1 )); }
tag=mlflow-guard:test
version=$(tr -d ' \n\r' < "$root/VERSION")
venv=${MLFLOW_GUARD_VENV:-$root/.venv}
port=${GUARD_PORT:-8443}

# --- the daemon ---------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || skip "no Docker daemon answers and there is no dockerd to start"
  [ "$(id -u)" = 0 ] || skip "no Docker daemon answers, and starting dockerd needs root"
  data=${DOCKERD_DATA:-/tmp/dockerd-data}
  mkdir -p "$data" /tmp/dockerd-run
  say "starting dockerd (storage driver vfs, data root $data, log /tmp/dockerd-run/dockerd.log)"
  nohup dockerd --storage-driver vfs --data-root "$data" --exec-root /tmp/dockerd-run/exec \
    -p /tmp/dockerd-run/dockerd.pid >/tmp/dockerd-run/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not come up: $(tail -3 /tmp/dockerd-run/dockerd.log)"
fi
say "docker: client $(docker version -f '{{.Client.Version}}'), daemon $(docker version -f '{{.Server.Version}}'), storage $(docker info -f '{{.Driver}}')"
work=$(mktemp -d /tmp/docker-smoke.XXXXXX)
chmod 755 "$work"
compose=()
cleanup() {
  if [ ${#compose[@]} -gt 0 ] && [ -n "${compose_up:-}" ]; then
    (cd "$ex" && "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1) || true
  fi
  [ -n "${probe:-}" ] && docker rm -f "$probe" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- base images ----------------------------------------------------------
bases=(golang:1.26-bookworm gcr.io/distroless/base-debian12:nonroot)
[ "$image_only" = 1 ] || bases+=(postgres:17 ghcr.io/mlflow/mlflow:v3.17.2)
missing=()
for b in "${bases[@]}"; do docker image inspect "$b" >/dev/null 2>&1 || missing+=("$b"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "base images absent: ${missing[*]}; scripts/docker-local-bases.sh pulls them or builds local stand-ins"
  "$root/scripts/docker-local-bases.sh" "${missing[@]}"
fi
for b in "${bases[@]}"; do
  if [ "$(docker image inspect -f '{{index .Config.Labels "org.mlflow-guard.local-stand-in"}}' "$b")" = true ]; then
    say "base $b: LOCAL STAND-IN (scripts/docker-local-bases.sh), not the registry's image"
  else
    say "base $b: $(docker image inspect -f '{{index .RepoDigests 0}}' "$b" 2>/dev/null || echo present)"
  fi
done

# --- the image ----------------------------------------------------------
prune_on_vfs() {
  # vfs keeps a full copy of the file system per layer: drop the build
  # caches (the Go build stage alone is several GB) when under
  # PRUNE_BELOW_GB (12) are left; tagged images stay
  [ "$(docker info -f '{{.Driver}}')" = vfs ] || return 0
  local avail
  avail=$(df -Pk "$(docker info -f '{{.DockerRootDir}}')" | awk 'NR == 2 {print int($4 / 1048576)}')
  [ "$avail" -lt "${PRUNE_BELOW_GB:-12}" ] || return 0
  say "vfs storage: removing $(docker images -qf dangling=true | wc -l) dangling build-cache images"
  docker image prune -f >/dev/null
}
t=$(date +%s)
net=()
[ -n "${DOCKER_BUILD_NETWORK:-}" ] && net=(--network "$DOCKER_BUILD_NETWORK") && say "build network: $DOCKER_BUILD_NETWORK"
if [ "$build" = 1 ]; then
  say "docker build ${net[*]} -t $tag $root"
  docker build "${net[@]}" -t "$tag" "$root" > "$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; fail "docker build"; }
  say "built $tag in $(lap "$t")"
else
  docker image inspect "$tag" >/dev/null 2>&1 || fail "--no-build: no image $tag"
  say "--no-build: using $tag as built before ($(docker image inspect -f '{{.Created}}' "$tag"))"
fi
size=$(docker image inspect -f '{{.Size}}' "$tag")
say "$tag: $((size / 1000000)) MB ($size bytes), $(docker history -q "$tag" | wc -l) history entries"
prune_on_vfs

user=$(docker image inspect -f '{{.Config.User}}' "$tag")
[ "$user" = 65532:65532 ] || fail "image USER is '$user', want 65532:65532"
got=$(docker run --rm --read-only --network none "$tag" version)
case "$got" in *"$version"*) say "version in the image: $got" ;; *) fail "version printed '$got', want $version" ;; esac
if docker run --rm --network none --entrypoint /bin/sh "$tag" -c true >/dev/null 2>&1; then fail "the image has /bin/sh"; fi
say "USER $user; no /bin/sh"

# the same findings as the host's binary on the same tree
(cd "$root" && CGO_ENABLED=1 go build -trimpath -buildvcs=false \
  -ldflags "-X github.com/mlflow-guard/mlflow-guard/internal/cli.Version=$version" \
  -o "$work/mlflow-guard" ./cmd/mlflow-guard)
norm() { python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); pre = sys.argv[2]
for f in sorted(r["findings"], key=lambda f: (f["path"], f.get("line", 0), f["rule_id"])):
    # paths are printed relative to the working directory where they can
    # be (the image works in /src): compare them relative to the scan root
    p = f["path"]
    p = p[len(pre):] if p.startswith(pre) else p
    print(f["rule_id"], p, f.get("line", 0), f["level"], "suppressed" if f["suppressed"] else "open")
' "$1" "$2"; }
set +e
docker run --rm --read-only --network none -v "$root/examples:/src:ro" "$tag" scan --format json /src > "$work/in-image.json"
c1=$?
(cd "$root" && "$work/mlflow-guard" scan --format json examples > "$work/host.json")
c2=$?
set -e
[ "$c1" = "$c2" ] || fail "scan exit codes differ: image $c1, host $c2"
norm "$work/in-image.json" /src/ > "$work/in-image.txt"
norm "$work/host.json" examples/ > "$work/host.txt"
diff -u "$work/host.txt" "$work/in-image.txt" >&2 || fail "scan of examples/: the image and the host binary disagree"
say "scan of examples/ in the image (read-only root, no network): exit $c1, $(wc -l < "$work/in-image.txt") findings, identical to the host binary's"
for sub in deploy-guarded; do
  docker run --rm --read-only --network none -v "$root/examples/$sub:/src:ro" "$tag" scan /src >/dev/null ||
    fail "scan of examples/$sub in the image is not clean"
done
docker run --rm --read-only --network none -v "$root/Dockerfile:/src/Dockerfile:ro" "$tag" scan /src >/dev/null ||
  fail "scan of the Dockerfile in the image is not clean"
say "scan of examples/deploy-guarded and of the Dockerfile in the image: clean"
[ "$image_only" = 1 ] && { say "OK (image only) in $(lap "$t0")"; exit 0; }

# --- the compose project --------------------------------------------------
[ -x "$venv/bin/python" ] || fail "no Python in $venv (set MLFLOW_GUARD_VENV)"
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null; then compose=(docker-compose)
else skip "neither 'docker compose' nor docker-compose is installed"; fi
say "compose: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null || "${compose[@]}" version | head -1))"
# The guard service's image (mlflow-guard:local) is the one just built from
# the same Dockerfile, so compose builds only the mlflow service.
docker tag "$tag" mlflow-guard:local
cd "$ex"
t=$(date +%s)
"${compose[@]}" build mlflow > "$work/compose-build.log" 2>&1 || { tail -30 "$work/compose-build.log" >&2; fail "compose build mlflow"; }
say "compose build mlflow in $(lap "$t")"
prune_on_vfs
t=$(date +%s)
compose_up=1
"${compose[@]}" up -d > "$work/compose-up.log" 2>&1 || { cat "$work/compose-up.log" >&2; "${compose[@]}" logs --tail 30 >&2 || true; fail "compose up"; }
cid() { "${compose[@]}" ps -q "$1"; }
docker cp "$(cid guard):/certs/ca.crt" "$work/ca.crt"
ready=0
for _ in $(seq 1 180); do
  if curl -fsS --cacert "$work/ca.crt" "https://localhost:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 2
done
[ "$ready" = 1 ] || { "${compose[@]}" ps >&2; "${compose[@]}" logs --tail 40 >&2; fail "gateway not ready on https://localhost:$port"; }
say "compose up: all services up and the gateway ready (TLS, the example CA) in $(lap "$t")"
"${compose[@]}" ps >&2

# who runs what, and what is reachable
uid=$(docker top "$(cid guard)" -o pid,uid | awk 'NR == 2 {print $2}')
[ "$uid" = 65532 ] || fail "the gateway runs as UID '$uid', want 65532"
[ "$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$(cid guard)")" = true ] || fail "guard's root fs is writable"
muid=$(docker top "$(cid mlflow)" -o pid,uid | awk 'NR == 2 {print $2}')
[ "$muid" = 10001 ] || fail "MLflow runs as UID '$muid', want 10001"
pubs=$(docker ps --filter "label=com.docker.compose.project" --format '{{.Names}} {{.Ports}}' | grep -c -- '->' || true)
[ "$pubs" = 1 ] || fail "$pubs containers publish ports, want only the gateway"
say "gateway: UID $uid, read-only root fs; MLflow: UID $muid; only the gateway publishes a port"

# the first user and a token, made in the running gateway's container
pw=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
printf '%s\n' "$pw" | "${compose[@]}" exec -T guard mlflow-guard users create admin --admin --password-stdin --data-dir /data >/dev/null
token=$("${compose[@]}" exec -T guard mlflow-guard tokens create admin --data-dir /data | tr -d '\r\n')
case "$token" in mlg_*) ;; *) fail "tokens create printed no token" ;; esac
say "compose exec guard: admin user and a token created"

anon=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/ca.crt" "https://localhost:$port/api/2.0/mlflow/experiments/search?max_results=5")
[ "$anon" = 401 ] || fail "anonymous request: HTTP $anon, want 401"
say "anonymous request: 401"

MLFLOW_TRACKING_URI="https://localhost:$port" MLFLOW_TRACKING_SERVER_CERT_PATH="$work/ca.crt" \
  MLFLOW_TRACKING_TOKEN="$token" "$venv/bin/python" - "$work/run_id" <<'EOF' || fail "MLflow client through the gateway"
import os, sys, tempfile
import mlflow
from mlflow.exceptions import MlflowException
mlflow.set_experiment("compose-smoke")
with mlflow.start_run() as run:
    mlflow.log_param("learning_rate", "0.01")
    mlflow.log_metric("loss", 0.5)
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "note.txt"), "w") as f:
        f.write("through the compose gateway\n")
    mlflow.log_artifact(os.path.join(d, "note.txt"))
    secret = "ghp_" + "hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES"
    try:
        mlflow.log_param("ci_setting", secret)
        sys.exit("a secret-looking param was accepted")
    except MlflowException as e:
        assert "MLG201" in str(e) or "PERMISSION_DENIED" in str(e), str(e)[:300]
        print("docker-smoke: secret-looking param refused:", str(e).splitlines()[0][:160], file=sys.stderr)
got = mlflow.get_run(run.info.run_id)
assert got.data.params == {"learning_rate": "0.01"}, got.data.params
assert got.data.metrics["loss"] == 0.5
back = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="note.txt")
assert open(back).read() == "through the compose gateway\n"
open(sys.argv[1], "w").write(run.info.run_id)
print(f"docker-smoke: MLflow client over https with a token: run {run.info.run_id}: param, metric, artifact logged and read back", file=sys.stderr)
EOF
run_id=$(cat "$work/run_id")
# the run is in PostgreSQL, and MLflow's connection to it is TLS
row=$("${compose[@]}" exec -T db psql -U mlflow -d mlflow -tA -c "select key || '=' || value from params where run_uuid = '$run_id' order by key" | tr -d '\r')
[ "$row" = "learning_rate=0.01" ] || fail "params of the run in PostgreSQL: '$row'"
ssl=$("${compose[@]}" exec -T db psql -U mlflow -d mlflow -tA -c "select count(*) from pg_stat_ssl s join pg_stat_activity a using (pid) where a.usename = 'mlflow' and a.client_addr is not null and s.ssl" | tr -d '\r')
[ "${ssl:-0}" -ge 1 ] || fail "no TLS connection from MLflow in pg_stat_ssl"
say "PostgreSQL holds the run's params ($row) and not the secret; MLflow's $ssl connection(s) to it use TLS"

t=$(date +%s)
"${compose[@]}" down -v > "$work/compose-down.log" 2>&1 || { cat "$work/compose-down.log" >&2; fail "compose down"; }
compose_up=
say "compose down -v in $(lap "$t")"
say "OK in $(lap "$t0")"
