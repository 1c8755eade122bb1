#!/usr/bin/env bash
# A shorter side-by-side of the issue-2 comparison on one package of the
# corpus (scikit-learn's sources), for machines where the full three-tool run
# of bench/python.sh does not finish in reasonable time. Needs bench/python.sh
# to have built the venvs first. Writes bench/results/11-python-scan-subset.md.
# SUBSET=full scans the whole corpus instead (mlflow-guard and semgrep only
# unless TOOLS says otherwise; bandit alone takes about 25 minutes there) and
# writes bench/results/12-python-scan-semgrep-full.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/bench/work
site=$work/corpus-venv/lib/python3.11/site-packages
if [ "${SUBSET:-sklearn}" = full ]; then
  sub=$site tools=${TOOLS:-"mlflow-guard semgrep"} out=12-python-scan-semgrep-full title="whole corpus"
else
  sub=$site/sklearn tools=${TOOLS:-"mlflow-guard bandit semgrep"} out=11-python-scan-subset title="one-package subset"
fi
[ -d "$sub" ] || { echo "run bench/python.sh first" >&2; exit 2; }
go build -o "$work/mlflow-guard" "$root/cmd/mlflow-guard"
export HOME=$work/home SEMGREP_SEND_METRICS=off SEMGREP_ENABLE_VERSION_CHECK=0; mkdir -p "$HOME"
echo "# empty on purpose: scan every file" > "$sub/.semgrepignore"
files=$(find "$sub" -name '*.py' | wc -l)
mb=$(find "$sub" -name '*.py' -printf '%s\n' | awk '{s+=$1} END {printf "%.1f", s/1e6}')
run() { # name cmd...
  local name=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/sub-$name.time" "$@" > "$work/sub-$name.out" 2> "$work/sub-$name.err" || true
}
load=$(cut -d' ' -f1 /proc/loadavg)
for t in $tools; do
  case $t in
  mlflow-guard) run mlflow-guard "$work/mlflow-guard" scan --format json --fail-on never "$sub" ;;
  bandit) run bandit "$work/tools-venv/bin/bandit" -r -f json -q "$sub" ;;
  semgrep) run semgrep "$work/tools-venv/bin/semgrep" scan --config "$root/bench/semgrep-mlflow.yml" --json --metrics=off \
    --disable-version-check --semgrepignore-v2 --project-root "$sub" -j 2 "$sub" ;;
  esac
done
semgrep_scanned=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d.get("paths",{}).get("scanned",[])))' "$work/sub-semgrep.out" 2>/dev/null || echo "?")
{
  echo "## Python scan, $title (issue 2)"
  echo
  echo "Run $(date -u '+%Y-%m-%d %H:%M') UTC by \`bench/python-subset.sh\` on $(nproc) cores, load average $load at the start."
  echo "Input: $(basename "$sub") from the corpus venv, $files \`.py\` files, $mb MB. semgrep reported $semgrep_scanned files scanned."
  echo
  echo "| tool | wall s | CPU s | files/s (wall) | mlflow-guard speed-up (wall) | mlflow-guard speed-up (CPU) | peak RSS MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  # /usr/bin/time puts "Command exited with non-zero status N" first when a
  # tool exits non-zero (bandit does on findings): the numbers are the last line.
  read -r gw gu gs gm < <(tail -n 1 "$work/sub-mlflow-guard.time")
  for t in $tools; do
    read -r w u s m < <(tail -n 1 "$work/sub-$t.time")
    awk -v t="$t" -v w="$w" -v u="$u" -v s="$s" -v m="$m" -v f="$files" -v gw="$gw" -v gc="$(echo "$gu $gs" | awk '{print $1+$2}')" \
      'BEGIN { c=u+s; printf "| %s | %.2f | %.2f | %.0f | %.1fx | %.1fx | %.0f |\n", t, w, c, f/w, w/gw, c/gc, m/1024 }'
  done
  echo
  echo "Peak RSS is the largest single process (/usr/bin/time); semgrep's semgrep-core child is the one measured."
} > "$root/bench/results/$out.md"
"$root/bench/assemble.sh"
