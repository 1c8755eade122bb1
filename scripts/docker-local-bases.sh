#!/usr/bin/env bash
# LOCAL STAND-IN BASE IMAGES, for a machine that can reach no image registry.
#
# The repository's Dockerfile and examples/deploy-guarded/docker-compose.yml
# name four upstream images. Where a registry answers, `docker pull` gets the
# real ones and this script does nothing. Where none does (the machine this
# was written on reaches only Debian's mirror, PyPI and the Go module proxy),
# it builds images under the SAME NAMES from those sources, so that the real
# Dockerfile and the real compose file can be built and run unchanged:
#
#   golang:1.26-bookworm   Debian bookworm (mmdebstrap, minbase) + gcc,
#                          libc6-dev, make, pkg-config, ca-certificates, and
#                          the Go toolchain from the Go module proxy
#                          (golang.org/toolchain@v0.0.1-go1.26.N.linux-amd64,
#                          newest 1.26 patch, checksum-verified by `go`).
#   gcr.io/distroless/base-debian12:nonroot
#                          the files of bookworm's base-files, netbase,
#                          libc6, libssl3, ca-certificates and tzdata
#                          (extracted, no maintainer script run), the CA
#                          bundle, passwd/group with nonroot 65532; no shell,
#                          no package manager; USER 65532.
#   postgres:17            Debian trixie (the official postgres:17 image's
#                          base) + postgresql-17, gosu, and an entrypoint of
#                          our own (scripts/docker-local/postgres-entrypoint.sh)
#                          that implements what the compose file uses of the
#                          official one: POSTGRES_USER, POSTGRES_DB,
#                          POSTGRES_PASSWORD(_FILE), first-start initdb,
#                          scram-sha-256 for remote hosts, uid 999.
#   ghcr.io/mlflow/mlflow:v3.17.2
#                          Debian bookworm python3 + a venv on PATH with
#                          mlflow==3.17.2 from PyPI, its dependencies pinned
#                          to the versions in the project's test venv
#                          ($MLFLOW_GUARD_VENV, `pip freeze`).
#
# Every stand-in carries the label org.mlflow-guard.local-stand-in=true, so
# `docker image inspect` tells it apart from a pulled image.
#
# This machine's egress goes through a TLS-intercepting proxy. The golang and
# mlflow stand-ins also trust the CA certificates in
# /usr/local/share/ca-certificates (set EGRESS_CA_DIR= to disable), so that
# `go mod download` and `pip install` inside builds on them reach the Go
# proxy and PyPI; the official images do not have (or need) that CA. The
# runtime image (distroless stand-in) does not get it.
#
# Usage: scripts/docker-local-bases.sh [--force] [IMAGE...]
#   no IMAGE: all four. --force rebuilds stand-ins that already exist.
# Needs root, a Docker daemon, mmdebstrap (apt-get install mmdebstrap), go, and the network to Debian's
# mirror, the Go module proxy and PyPI. Disk: about 2.5 GB of images with
# the vfs storage driver.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'docker-local-bases: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

force=0
want=()
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    -h|--help) sed -n '2,50p' "$0"; exit 0 ;;
    *) want+=("$a") ;;
  esac
done
all=(golang:1.26-bookworm gcr.io/distroless/base-debian12:nonroot postgres:17 ghcr.io/mlflow/mlflow:v3.17.2)
[ ${#want[@]} -gt 0 ] || want=("${all[@]}")

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
egress_ca_dir=${EGRESS_CA_DIR-/usr/local/share/ca-certificates}
venv=${MLFLOW_GUARD_VENV:-$root/.venv}
label=org.mlflow-guard.local-stand-in=true
work=$(mktemp -d /tmp/docker-local-bases.XXXXXX)
trap 'rm -rf "$work"' EXIT

docker info >/dev/null 2>&1 || fail "no Docker daemon answers"
[ "$(id -u)" = 0 ] || fail "run as root (mmdebstrap, docker import)"

# egress_cas prints the extra CA files to trust in the build-time stand-ins.
egress_cas() {
  [ -n "$egress_ca_dir" ] && [ -d "$egress_ca_dir" ] || return 0
  find "$egress_ca_dir" -maxdepth 1 -name '*.crt' -type f
}

# trust_egress ROOTFS adds the egress CA files to a Debian rootfs's store.
trust_egress() {
  local rootfs=$1 n=0
  mkdir -p "$rootfs/usr/local/share/ca-certificates"
  for f in $(egress_cas); do
    cp "$f" "$rootfs/usr/local/share/ca-certificates/egress-$(basename "$f")"
    n=$((n + 1))
  done
  [ "$n" = 0 ] && return 0
  chroot "$rootfs" update-ca-certificates >/dev/null
  say "  (stand-in trusts $n egress CA certificate(s) from $egress_ca_dir: build-time only)"
}

# debian_rootfs SUITE DIR PACKAGES... : mmdebstrap minbase into DIR.
debian_rootfs() {
  local suite=$1 dir=$2; shift 2
  local inc
  inc=$(IFS=,; echo "$*")
  mkdir -p "$dir"
  mmdebstrap --quiet --variant=minbase --include="$inc" \
    --aptopt='APT::Install-Recommends "false"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    "$suite" "$dir" \
    "deb $mirror $suite main" "deb $mirror $suite-updates main" \
    "deb $security $suite-security main"
}

# import DIR NAME CHANGES... : one-layer image from a rootfs, labelled.
import_rootfs() {
  local dir=$1 name=$2; shift 2
  local args=(--change "LABEL $label" --change "LABEL org.mlflow-guard.stand-in-for=$name")
  local stopsignal=
  for c in "$@"; do
    case "$c" in
      # `docker import --change` takes no STOPSIGNAL: set it in a
      # metadata-only build step on top
      "STOPSIGNAL "*) stopsignal=${c#STOPSIGNAL } ;;
      *) args+=(--change "$c") ;;
    esac
  done
  tar --numeric-owner --xattrs -C "$dir" -c . | docker import "${args[@]}" - "$name" >/dev/null
  if [ -n "$stopsignal" ]; then
    printf 'FROM %s\nSTOPSIGNAL %s\n' "$name" "$stopsignal" | docker build -q -t "$name" - >/dev/null
  fi
  say "  built $name: $(docker image inspect -f '{{.Size}}' "$name" | awk '{printf "%.0f MB", $1/1e6}')"
}

build_golang() {
  local name=$1 rootfs=$work/golang
  local ver
  ver=$(go list -m -versions golang.org/toolchain | tr ' ' '\n' |
    sed -n 's/^v0\.0\.1-go\(1\.26\.[0-9]*\)\.linux-amd64$/\1/p' | sort -V | tail -1)
  [ -n "$ver" ] || fail "the Go module proxy lists no golang.org/toolchain go1.26.N.linux-amd64"
  say "  Go $ver from the Go module proxy (golang.org/toolchain@v0.0.1-go$ver.linux-amd64)"
  local dir
  dir=$(go mod download -json "golang.org/toolchain@v0.0.1-go$ver.linux-amd64" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d.get("Error")) if d.get("Error") else print(d["Dir"])')
  debian_rootfs bookworm "$rootfs" gcc libc6-dev make pkg-config ca-certificates
  mkdir -p "$rootfs/usr/local/go" "$rootfs/go/bin" "$rootfs/go/src"
  cp -a "$dir/." "$rootfs/usr/local/go/"
  # module zips carry no mode bits; set them as `go` does when it switches
  # to a downloaded toolchain: executables in bin/ and pkg/tool/
  chmod -R u+w,a+rX "$rootfs/usr/local/go"
  find "$rootfs/usr/local/go/bin" "$rootfs/usr/local/go/pkg/tool" -type f -exec chmod a+x {} +
  chmod 1777 "$rootfs/go"
  "$rootfs/usr/local/go/bin/go" version >/dev/null || fail "the toolchain does not run"
  trust_egress "$rootfs"
  import_rootfs "$rootfs" "$name" \
    "ENV GOLANG_VERSION=$ver" "ENV GOTOOLCHAIN=local" "ENV GOPATH=/go" \
    "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "WORKDIR /go" 'CMD ["bash"]'
}

build_distroless() {
  local name=$1 rootfs=$work/distroless debs=$work/debs
  mkdir -p "$rootfs" "$debs"
  # the packages distroless base-debian12 is made of (glibc, libssl, CA
  # certificates, tzdata, netbase, base-files), fetched with apt from the
  # Debian bookworm mirror and unpacked, no maintainer scripts
  (cd "$debs" && apt-get download -q base-files netbase libc6 libssl3 ca-certificates tzdata >/dev/null)
  for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$rootfs"; done
  ls "$debs" | sed 's/^/    /' >&2
  # the bundle update-ca-certificates would write (Mozilla set, no egress CA)
  mkdir -p "$rootfs/etc/ssl/certs"
  find "$rootfs/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat > "$rootfs/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' > "$rootfs/etc/group"
  printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
  mkdir -p "$rootfs/home/nonroot" "$rootfs/root" "$rootfs/tmp"
  chown 65532:65532 "$rootfs/home/nonroot"
  chmod 700 "$rootfs/root"
  chmod 1777 "$rootfs/tmp"
  # no shell, no package manager: nothing here may bring one
  for f in bin/sh bin/bash bin/dash usr/bin/dpkg usr/bin/apt; do
    [ ! -e "$rootfs/$f" ] || fail "distroless stand-in has /$f"
  done
  rm -rf "$rootfs/usr/share/doc" "$rootfs/usr/share/man" "$rootfs/usr/share/lintian"
  import_rootfs "$rootfs" "$name" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
    "USER 65532" "WORKDIR /home/nonroot"
}

build_postgres() {
  local name=$1 rootfs=$work/postgres
  local major=${name#postgres:}
  # uid/gid 999 as in the official image (the compose file's certs service
  # chowns db.key to 999); created before the package would pick its own
  mmdebstrap --quiet --variant=minbase --include="postgresql-$major,gosu,locales" \
    --aptopt='APT::Install-Recommends "false"' \
    --essential-hook='echo "postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash" >> "$1/etc/passwd"; echo "postgres:x:999:" >> "$1/etc/group"' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/lib/postgresql/'"$major"'/main "$1"/etc/postgresql/'"$major"'/main' \
    trixie "$rootfs" \
    "deb $mirror trixie main" "deb $mirror trixie-updates main" "deb $security trixie-security main"
  [ "$(chroot "$rootfs" id -u postgres)" = 999 ] || fail "postgres is not uid 999 in the stand-in"
  install -m 755 "$root/scripts/docker-local/postgres-entrypoint.sh" "$rootfs/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$rootfs/var/lib/postgresql/data" "$rootfs/var/run/postgresql" "$rootfs/docker-entrypoint-initdb.d"
  chown -R 999:999 "$rootfs/var/lib/postgresql" "$rootfs/var/run/postgresql"
  chmod 1777 "$rootfs/var/lib/postgresql/data" "$rootfs/var/run/postgresql"
  local pgver
  pgver=$(chroot "$rootfs" "/usr/lib/postgresql/$major/bin/postgres" --version | awk '{print $3}')
  say "  PostgreSQL $pgver (Debian trixie postgresql-$major)"
  import_rootfs "$rootfs" "$name" \
    "ENV PG_MAJOR=$major" "ENV PG_VERSION=$pgver" "ENV LANG=C.UTF-8" \
    "ENV PATH=/usr/lib/postgresql/$major/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV PGDATA=/var/lib/postgresql/data" "VOLUME /var/lib/postgresql/data" \
    'ENTRYPOINT ["docker-entrypoint.sh"]' "STOPSIGNAL SIGINT" "EXPOSE 5432" 'CMD ["postgres"]'
}

build_mlflow() {
  local name=$1 rootfs=$work/mlflow
  local ver=${name##*:v}
  [ -x "$venv/bin/pip" ] || fail "no pip in $venv (set MLFLOW_GUARD_VENV): it gives the pinned versions"
  debian_rootfs bookworm "$rootfs" python3 python3-venv ca-certificates
  trust_egress "$rootfs"
  # the test venv's versions as constraints: the same dependency set the
  # project's tests run MLflow with
  "$venv/bin/pip" freeze --exclude-editable | grep -v -E '^(mlflow-guard|-e )' > "$rootfs/tmp/constraints.txt"
  grep -q "^mlflow==$ver\$" "$rootfs/tmp/constraints.txt" || fail "$venv does not pin mlflow==$ver"
  chroot "$rootfs" python3 -m venv /opt/mlflow
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$rootfs/etc/pip.conf"
  chroot "$rootfs" env -i PATH=/usr/bin:/bin HOME=/root PIP_DISABLE_PIP_VERSION_CHECK=1 /opt/mlflow/bin/pip install -q --no-cache-dir \
    -c /tmp/constraints.txt "mlflow==$ver" >&2
  rm -f "$rootfs/tmp/constraints.txt"
  say "  $(chroot "$rootfs" /opt/mlflow/bin/mlflow --version)"
  import_rootfs "$rootfs" "$name" \
    "ENV PATH=/opt/mlflow/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV PYTHONUNBUFFERED=1" "WORKDIR /" 'CMD ["bash"]'
}

say "these are LOCAL STAND-INS built from Debian packages, the Go module proxy and PyPI,"
say "for a machine that reaches no image registry; a pullable real image is always used instead"
for name in "${want[@]}"; do
  if docker image inspect "$name" >/dev/null 2>&1; then
    standin=$(docker image inspect -f '{{index .Config.Labels "org.mlflow-guard.local-stand-in"}}' "$name" 2>/dev/null || true)
    if [ "$standin" != true ]; then
      say "$name: present and not a stand-in (pulled); nothing to do"
      continue
    fi
    if timeout 60 docker pull -q "$name" >/dev/null 2>&1; then
      say "$name: pulled the real image; it replaces the local stand-in"
      continue
    fi
    if [ "$force" = 0 ]; then
      say "$name: local stand-in present, registry still unreachable (--force rebuilds it)"
      continue
    fi
  fi
  if timeout 60 docker pull -q "$name" >/dev/null 2>&1; then
    say "$name: pulled the real image from its registry; no stand-in needed"
    continue
  fi
  say "$name: no registry reachable; building a LOCAL STAND-IN"
  start=$(date +%s)
  case "$name" in
    golang:*) build_golang "$name" ;;
    gcr.io/distroless/base-*) build_distroless "$name" ;;
    postgres:*) build_postgres "$name" ;;
    ghcr.io/mlflow/mlflow:v*) build_mlflow "$name" ;;
    *) fail "no recipe for $name" ;;
  esac
  say "  $name took $(( $(date +%s) - start ))s"
done
