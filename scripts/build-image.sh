#!/usr/bin/env bash
# Builds the mlflow-guard container image and checks it for real:
#   1. `--version` and `scan` run in it, on a read-only root file system;
#   2. it runs as UID 65532 (not root), with no shell in the image;
#   3. `serve` in it fronts a real MLflow server (the pinned venv's, on the
#      host's loopback): an admin user is created with the image, an
#      anonymous request is refused with 401, and the real MLflow Python
#      client logs a run through the gateway with Basic credentials and then
#      with a token.
#
# Usage: scripts/build-image.sh [--offline] [--tag NAME] [--no-run]
#
# Needs a running Docker daemon (DOCKER_HOST is honoured). With registry
# access it builds the repository's Dockerfile as is (golang:1.26-bookworm
# build stage, distroless base-debian12:nonroot runtime). --offline (or no
# registry reachable) builds the same binary on the host instead (this
# machine is Debian 12, the glibc the Dockerfile builds against) and puts
# it on a minimal root file system made here: the binary, the two shared
# objects it links (libc, the dynamic loader), CA certificates, passwd and
# group entries for nonroot (65532) and a /data folder it owns. Like
# distroless it has no shell and no package manager.
#
# Not part of CI: a fresh CI machine has no Docker daemon. Run it where one
# is available. Env: MLFLOW_GUARD_VENV (default .venv) for step 3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag=mlflow-guard:local
offline=0
run=1
while [ $# -gt 0 ]; do
  case "$1" in
    --offline) offline=1 ;;
    --tag) tag=$2; shift ;;
    --no-run) run=0 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
say() { printf 'build-image: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
docker info >/dev/null 2>&1 || fail "no Docker daemon answers (DOCKER_HOST=${DOCKER_HOST:-unset})"
version=$(tr -d ' \n\r' < "$root/VERSION")
work=$(mktemp -d)
cleanup() {
  [ -n "${gw:-}" ] && docker rm -f "$gw" >/dev/null 2>&1 || true
  [ -n "${mlpid:-}" ] && kill "$mlpid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$offline" = 0 ] && ! timeout 60 docker pull -q golang:1.26-bookworm >/dev/null 2>&1; then
  say "cannot pull golang:1.26-bookworm (no registry access): building offline"
  offline=1
fi

if [ "$offline" = 0 ]; then
  say "docker build -t $tag $root"
  docker build -t "$tag" "$root"
else
  say "building the binary on the host (cgo, Debian 12 glibc)"
  mkdir -p "$work/rootfs/usr/local/bin" "$work/rootfs/etc/ssl/certs" "$work/rootfs/data" "$work/rootfs/src" "$work/rootfs/tmp"
  (cd "$root" && CGO_ENABLED=1 go build -trimpath -buildvcs=false \
    -ldflags "-s -w -X github.com/mlflow-guard/mlflow-guard/internal/cli.Version=$version" \
    -o "$work/rootfs/usr/local/bin/mlflow-guard" ./cmd/mlflow-guard)
  # the shared objects the binary links, at the paths it looks them up
  for lib in $(ldd "$work/rootfs/usr/local/bin/mlflow-guard" | grep -o '/[^ ]*'); do
    mkdir -p "$work/rootfs$(dirname "$lib")"
    cp -L "$lib" "$work/rootfs$lib"
  done
  cp -L /etc/ssl/certs/ca-certificates.crt "$work/rootfs/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$work/rootfs/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$work/rootfs/etc/group"
  printf 'hosts: files dns\n' > "$work/rootfs/etc/nsswitch.conf"
  chmod 1777 "$work/rootfs/tmp"
  cat > "$work/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
COPY --chown=65532:65532 rootfs/data /data
LABEL org.opencontainers.image.title="mlflow-guard" org.opencontainers.image.version="$version" org.opencontainers.image.licenses="Apache-2.0"
USER 65532:65532
WORKDIR /src
VOLUME ["/data"]
EXPOSE 8443
ENTRYPOINT ["/usr/local/bin/mlflow-guard"]
CMD ["scan", "/src"]
EOF
  docker build -q -t "$tag" "$work" >/dev/null
fi
say "built $tag ($(docker image inspect -f '{{.Size}}' "$tag") bytes)"

[ "$run" = 1 ] || exit 0

# 1. version and scan, read-only root file system, no network
got=$(docker run --rm --read-only --network none "$tag" --version)
case "$got" in *"$version"*) say "--version: $got" ;; *) fail "--version printed '$got', want $version" ;; esac
set +e
docker run --rm --read-only --network none -v "$root/examples:/src:ro" "$tag" scan --format json /src > "$work/scan.json"
code=$?
set -e
[ "$code" = 1 ] || fail "scan of examples/ in the image: exit $code, want 1 (findings)"
n=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(not f["suppressed"] for f in r["findings"]))' "$work/scan.json")
say "scan /src in the image: exit 1, $n findings"
set +e
docker run --rm --read-only --network none -v "$root/examples/deploy-guarded:/src:ro" "$tag" scan /src >/dev/null
code=$?
set -e
[ "$code" = 0 ] || fail "scan of examples/deploy-guarded in the image: exit $code, want 0"
say "scan examples/deploy-guarded in the image: exit 0"

# 2. non-root, no shell
user=$(docker image inspect -f '{{.Config.User}}' "$tag")
[ "$user" = "65532:65532" ] || fail "image USER is '$user', want 65532:65532"
if docker run --rm --network none --entrypoint /bin/sh "$tag" -c true >/dev/null 2>&1; then
  fail "the image has a shell"
fi
say "USER $user; no /bin/sh in the image"

# 3. serve in front of a real MLflow server
venv=${MLFLOW_GUARD_VENV:-$root/.venv}
[ -x "$venv/bin/mlflow" ] || fail "no MLflow in $venv (set MLFLOW_GUARD_VENV)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mport=$(free_port)
gport=$(free_port)
mkdir -p "$work/mlflow" "$work/data"
chown 65532:65532 "$work/data" 2>/dev/null || chmod 777 "$work/data"
(cd "$work/mlflow" && exec "$venv/bin/mlflow" server --host 127.0.0.1 --port "$mport" \
  --backend-store-uri "sqlite:///$work/mlflow/mlflow.db" --artifacts-destination "$work/mlflow/artifacts" \
  >"$work/mlflow.log" 2>&1) &
mlpid=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$mport/health" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://127.0.0.1:$mport/health" >/dev/null || fail "MLflow did not start: $(tail -5 "$work/mlflow.log")"
pw=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
printf '%s\n' "$pw" | docker run --rm -i --read-only --network none -v "$work/data:/data" "$tag" \
  users create admin --admin --password-stdin --data-dir /data >/dev/null
token=$(docker run --rm --read-only --network none -v "$work/data:/data" "$tag" tokens create admin --data-dir /data 2>/dev/null)
# host network: the gateway reaches MLflow on the host's loopback, and may
# listen there in plain HTTP (TLS is required on any other address)
gw=$(docker run -d --read-only --network host -v "$work/data:/data" "$tag" \
  serve --upstream "http://127.0.0.1:$mport" --listen "127.0.0.1:$gport" --data-dir /data)
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$gport/healthz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://127.0.0.1:$gport/readyz" >/dev/null || fail "gateway not ready: $(docker logs "$gw" 2>&1 | tail -5)"
uid=$(docker top "$gw" -o pid,uid | awk 'NR == 2 {print $2}')
[ "$uid" = 65532 ] || fail "gateway process runs as UID '$uid', want 65532"
ro=$(docker inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$gw")
[ "$ro" = true ] || fail "gateway root file system is not read-only"
say "gateway in the image: UID $uid, read-only root fs, ready"
anon=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gport/api/2.0/mlflow/experiments/search?max_results=5")
[ "$anon" = 401 ] || fail "anonymous search through the gateway: HTTP $anon, want 401"
say "anonymous request: 401"
for cred in basic token; do
  if [ "$cred" = basic ]; then
    env_args=(MLFLOW_TRACKING_USERNAME=admin "MLFLOW_TRACKING_PASSWORD=$pw")
  else
    env_args=("MLFLOW_TRACKING_TOKEN=$token")
  fi
  env "${env_args[@]}" MLFLOW_TRACKING_URI="http://127.0.0.1:$gport" "$venv/bin/python" - "$cred" <<'EOF' || fail "MLflow client through the gateway ($cred)"
import sys, tempfile, os, mlflow
cred = sys.argv[1]
mlflow.set_experiment(f"image-check-{cred}")
with mlflow.start_run() as run:
    mlflow.log_param("auth_kind", cred)
    mlflow.log_metric("x", 1.0)
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "note.txt"), "w") as f:
        f.write("through the gateway image\n")
    mlflow.log_artifact(os.path.join(d, "note.txt"))
got = mlflow.get_run(run.info.run_id)
assert got.data.params["auth_kind"] == cred, got.data.params
back = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="note.txt")
assert open(back).read() == "through the gateway image\n"
print(f"build-image: MLflow client ({cred}): run {run.info.run_id} logged and read back")
EOF
done
say "OK: $tag"
