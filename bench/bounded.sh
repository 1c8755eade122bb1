#!/usr/bin/env bash
# Issues 9 and 10 resource benchmark: wall time, CPU time and peak RSS of the
# built binary on generated worst-case inputs (7 MB list literal, 1.2 MB of
# nested parentheses, doubling shell/Dockerfile/Makefile expansions, the
# adversarial model files, a 64 MiB dense pickle), the pickle walker's peak
# RSS per MB on a synthetic and a realistic dense pickle next to
# picklescan's, and the 10 GiB sparse torch zip (BenchmarkSparseTorchZip).
# Needs bench/model.sh run first (its tools venv and 10 MB dense pickle).
# Writes bench/results/31-bounded.md, then assembles BENCHMARKS.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/bench/work
venv=$work/model-tools
cd "$root"
[ -x "$venv/bin/picklescan" ] && [ -f "$work/model/dense.pkl" ] || { echo "run bench/model.sh first" >&2; exit 2; }
go build -o "$work/mlflow-guard" ./cmd/mlflow-guard
mkdir -p "$work/hostile"
MODEL_HOSTILE_OUT=$work/hostile go test -count=1 -run '^TestWriteHostileModels$' ./internal/analyze/model/ >/dev/null

# 10 GiB sparse torch zip: the benchmark in the model package, under
# /usr/bin/time so the test process's peak RSS is known too.
go test -c -o "$work/model.test" ./internal/analyze/model/
ld=$(cut -d' ' -f1 /proc/loadavg)
out=$(cd internal/analyze/model && /usr/bin/time -v "$work/model.test" -test.run '^$' -test.bench '^BenchmarkSparseTorchZip$' -test.benchtime 5x -test.benchmem 2>&1)
ns=$(awk '/^BenchmarkSparseTorchZip/ {print $3}' <<<"$out")
bop=$(awk '/^BenchmarkSparseTorchZip/ {print $5}' <<<"$out")
rss=$(awk -F': ' '/Maximum resident set size/ {print int($2/1024)}' <<<"$out")
[ -n "$ns" ] || { echo "$out" >&2; exit 1; }
sparse="10 GiB sparse torch zip (zip64, archive/data.pkl + a 10 GiB storage member): $(awk -v n="$ns" 'BEGIN{printf "%.4f", n/1e9}') s per scan, $((bop / 1024)) KiB allocated per scan, peak RSS of the whole test process (file generation included) ${rss} MiB (target < 1 s: $(awk -v n="$ns" 'BEGIN{print (n<1e9)?"met":"NOT met"}')); load ${ld}. Command: \`go test -c ./internal/analyze/model && /usr/bin/time -v ./model.test -test.run '^\$' -test.bench BenchmarkSparseTorchZip -test.benchtime 5x -test.benchmem\`."

/work/main/.venv/bin/python bench/bounded_bench.py "$work/mlflow-guard" "$venv" "$work" bench/results/31-bounded.md "$sparse"
if [ -x bench/assemble.sh ]; then bench/assemble.sh; fi
