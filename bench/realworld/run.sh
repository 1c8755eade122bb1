#!/usr/bin/env bash
# Scans every real-world snapshot listed in bench/realworld/manifest.tsv and
# compares the findings with bench/realworld/triage.csv and must-find.csv.
#
# The snapshots are NOT in this repository. Recreate them with
#   bench/realworld/run.sh --fetch
# which runs, for each manifest row, `git clone REPO DIR/NAME` and
# `git checkout COMMIT` (bitnami/charts is cut down to bitnami/mlflow, see
# `subset` below). REALWORLD_DIR (default /work/realworld) says where they live.
#
# Env: REALWORLD_DIR, MG (a built mlflow-guard binary; default: build one),
#      OUT (report folder, default bench/work/realworld).
# Exit: 0 when every finding is triaged, every must-find entry is found and
# every snapshot scanned; 1 otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${REALWORLD_DIR:-/work/realworld}
out=${OUT:-$root/bench/work/realworld}

# Monorepos of which only one chart is part of the corpus.
subset() {
  case "$1" in
    bitnami+charts) echo bitnami/mlflow ;;
    *) echo "" ;;
  esac
}

if [ "${1:-}" = "--fetch" ]; then
  mkdir -p "$dir"
  tail -n +2 "$here/manifest.tsv" | while IFS=$'\t' read -r name repo commit _kind; do
    [ -d "$dir/$name" ] && continue
    git clone --quiet --filter=blob:none "$repo" "$dir/$name"
    git -C "$dir/$name" checkout --quiet "$commit"
    keep=$(subset "$name")
    if [ -n "$keep" ]; then
      tmp=$(mktemp -d)
      mv "$dir/$name/$keep" "$tmp/keep"
      rm -rf "$dir/$name"
      mkdir -p "$dir/$name/$(dirname "$keep")"
      mv "$tmp/keep" "$dir/$name/$keep"
      rmdir "$tmp"
    fi
    rm -rf "$dir/$name/.git"
  done
  exit 0
fi

if [ -z "${MG:-}" ]; then
  MG=$root/bench/work/mlflow-guard
  mkdir -p "$(dirname "$MG")"
  (cd "$root" && go build -o "$MG" ./cmd/mlflow-guard)
fi
mkdir -p "$out"
tail -n +2 "$here/manifest.tsv" | while IFS=$'\t' read -r name _repo _commit _kind; do
  if [ ! -d "$dir/$name" ]; then
    echo "missing snapshot $dir/$name (run $0 --fetch)" >&2
    continue
  fi
  # Exit 1 (findings) and 3 (errors) are results here, not failures.
  (cd "$dir/$name" && "$MG" scan --format json --fail-on never -q . >"$out/$name.json" 2>"$out/$name.err") || true
done
exec python3 "$here/compare.py" "$out" "$@"
