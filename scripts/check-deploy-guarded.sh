#!/usr/bin/env bash
# Runs the configuration of examples/deploy-guarded with real components,
# for a machine that has a Docker daemon but no registry access (neither
# postgres:17 nor ghcr.io/mlflow/mlflow can be pulled there):
#   - the example's certs/make-certs.sh makes the CA and the certificates
#     (run as root, as the compose "certs" service is);
#   - PostgreSQL (Debian's, $MLFLOW_GUARD_PG_BIN) runs with the compose
#     file's TLS settings and the example's db certificate;
#   - the example's mlflow/start-mlflow.sh starts MLflow (the pinned venv)
#     with its backend store URI: sslmode=verify-full against the "db"
#     certificate. Three things are adapted to the host, nothing else: the
#     secret and certificate paths, the ports, libpq's hostaddr=127.0.0.1
#     standing in for compose's DNS name "db", and 127.0.0.1:PORT added to
#     --allowed-hosts (the gateway sends the upstream's host, here not
#     "mlflow:5000");
#   - the gateway image (scripts/build-image.sh) serves TLS with the
#     example's guard certificate, as UID 65532, read-only root fs;
#   - the real MLflow client logs a run over https, trusting the example CA,
#     and the run is then read from PostgreSQL.
# What it does not check: the compose file itself (networks, depends_on,
# volumes), and the official postgres and MLflow images.
#
# Usage: scripts/check-deploy-guarded.sh [IMAGE]   (default mlflow-guard:local)
# Needs root (make-certs.sh chowns the keys), a Docker daemon and openssl.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ex=$root/examples/deploy-guarded
tag=${1:-mlflow-guard:local}
venv=${MLFLOW_GUARD_VENV:-$root/.venv}
pgbin=${MLFLOW_GUARD_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
say() { printf 'check-deploy-guarded: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (make-certs.sh chowns the keys)"
docker image inspect "$tag" >/dev/null 2>&1 || fail "no image $tag (scripts/build-image.sh builds it)"
[ -x "$pgbin/initdb" ] || fail "no PostgreSQL binaries (set MLFLOW_GUARD_PG_BIN)"
[ -x "$venv/bin/mlflow" ] || fail "no MLflow in $venv (set MLFLOW_GUARD_VENV)"
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
  [ -n "${gw:-}" ] && docker rm -f "$gw" >/dev/null 2>&1 || true
  [ -n "${mlpid:-}" ] && kill "$mlpid" 2>/dev/null || true
  [ -d "$work/pg" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# certificates, by the example's own script
mkdir -p "$work/certs"
CERTS_DIR=$work/certs sh "$ex/certs/make-certs.sh" >/dev/null 2>&1 || fail "make-certs.sh failed"
for f in ca.crt db.crt db.key guard.crt guard.key; do [ -s "$work/certs/$f" ] || fail "make-certs.sh made no $f"; done
[ "$(stat -c %u:%a "$work/certs/guard.key")" = 65532:600 ] || fail "guard.key is $(stat -c %u:%a "$work/certs/guard.key"), want 65532:600"
say "make-certs.sh: CA, db and guard certificates"

# PostgreSQL with the compose file's TLS settings; the key is handed to the
# host's postgres user as the image's entrypoint hands it to uid 999
pw=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
printf '%s\n' "$pw" > "$work/db_password"
chmod 644 "$work/db_password"
mkdir -p "$work/pg" "$work/pgkey" "$work/sock"
cp "$work/certs/db.key" "$work/pgkey/db.key"
chown -R postgres "$work/pg" "$work/pgkey" "$work/sock"
chmod 600 "$work/pgkey/db.key"
printf '%s\n' "$pw" > "$work/pgkey/pw" && chown postgres "$work/pgkey/pw"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -U mlflow --pwfile="$work/pgkey/pw" -A scram-sha-256 >/dev/null
pgport=$(free_port)
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -w -l "$work/sock/pg.log" -o \
  "-p $pgport -k $work/sock -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file=$work/certs/db.crt -c ssl_key_file=$work/pgkey/db.key -c ssl_min_protocol_version=TLSv1.2" start >/dev/null
PGPASSWORD=$pw "$pgbin/createdb" -h "$work/sock" -p "$pgport" -U mlflow mlflow
say "PostgreSQL with TLS on 127.0.0.1:$pgport"

# MLflow through the example's start script
mport=$(free_port)
sed -e "s#--allowed-hosts mlflow,mlflow:5000#--allowed-hosts mlflow,mlflow:5000,127.0.0.1:$mport#" -e "s#/run/secrets/db_password#$work/db_password#" \
    -e "s#@db:5432/#@db:$pgport/#" \
    -e "s#sslrootcert=/certs/ca.crt#sslrootcert=$work/certs/ca.crt\&hostaddr=127.0.0.1#" \
    -e "s#/mlartifacts#$work/artifacts#" "$ex/mlflow/start-mlflow.sh" > "$work/start-mlflow.sh"
grep -q 'sslmode=verify-full' "$work/start-mlflow.sh" || fail "start-mlflow.sh no longer asks for verify-full"
grep -q "127.0.0.1:$mport" "$work/start-mlflow.sh" || fail "start-mlflow.sh no longer sets --allowed-hosts mlflow,mlflow:5000"
(PATH=$venv/bin:$PATH exec sh "$work/start-mlflow.sh" --host 127.0.0.1 --port "$mport" --workers 1 >"$work/mlflow.log" 2>&1) &
mlpid=$!
# the first start creates MLflow's schema in PostgreSQL: minutes on a busy machine
for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$mport/health" >/dev/null 2>&1 && break
  kill -0 "$mlpid" 2>/dev/null || break
  sleep 1
done
curl -fsS "http://127.0.0.1:$mport/health" >/dev/null || fail "MLflow did not start: $(tail -5 "$work/mlflow.log")"
say "MLflow via start-mlflow.sh on 127.0.0.1:$mport, store over TLS (verify-full)"

# the gateway image with the example's certificate
mkdir -p "$work/data" && chown 65532:65532 "$work/data"
gport=$(free_port)
printf '%s\n' "$pw" | docker run --rm -i --read-only --network none -v "$work/data:/data" "$tag" \
  users create admin --admin --password-stdin --data-dir /data >/dev/null
gw=$(docker run -d --read-only --network host --cap-drop ALL --security-opt no-new-privileges:true \
  -v "$work/data:/data" -v "$work/certs:/certs:ro" "$tag" \
  serve --upstream "http://127.0.0.1:$mport" --listen "127.0.0.1:$gport" \
  --tls-cert /certs/guard.crt --tls-key /certs/guard.key --data-dir /data --allowed-host localhost)
for _ in $(seq 1 60); do
  curl -fsS --cacert "$work/certs/ca.crt" "https://localhost:$gport/healthz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS --cacert "$work/certs/ca.crt" "https://localhost:$gport/readyz" >/dev/null || fail "gateway not ready: $(docker logs "$gw" 2>&1 | tail -5)"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/certs/ca.crt" "https://localhost:$gport/api/2.0/mlflow/experiments/search?max_results=5")
[ "$code" = 401 ] || fail "anonymous request: HTTP $code, want 401"
say "gateway: TLS with guard.crt (verified against the example CA), anonymous request 401"

MLFLOW_TRACKING_URI=https://localhost:$gport MLFLOW_TRACKING_SERVER_CERT_PATH=$work/certs/ca.crt \
MLFLOW_TRACKING_USERNAME=admin MLFLOW_TRACKING_PASSWORD=$pw "$venv/bin/python" - <<'EOF' || fail "MLflow client over https through the gateway"
import os, tempfile, mlflow
mlflow.set_experiment("deploy-guarded-check")
with mlflow.start_run() as run:
    mlflow.log_metric("x", 1.0)
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "note.txt"), "w") as f:
        f.write("deploy-guarded\n")
    mlflow.log_artifact(os.path.join(d, "note.txt"))
back = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="note.txt")
assert open(back).read() == "deploy-guarded\n"
print(run.info.run_id)
EOF
n=$(PGPASSWORD=$pw "$pgbin/psql" -h "$work/sock" -p "$pgport" -U mlflow -d mlflow -tAc "select count(*) from runs")
[ "$n" = 1 ] || fail "PostgreSQL holds $n runs, want 1"
say "OK: the run went through the gateway over TLS and is stored in PostgreSQL"
