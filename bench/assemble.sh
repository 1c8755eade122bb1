#!/usr/bin/env bash
# Writes BENCHMARKS.md from the fragments the bench scripts leave in
# bench/results/*.md (one per benchmark, each a complete section).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
{
  echo "# Benchmarks"
  echo
  echo "Written by \`bench/assemble.sh\` from the sections that each \`bench/*.sh\` script"
  echo "records in \`bench/results/\`. Machines are 2-core shared VMs: compare the ratios"
  echo "within one table (one run), not absolute times across tables."
  for f in "$root"/bench/results/*.md; do
    [ -e "$f" ] || continue
    echo
    cat "$f"
  done
} > "$root/BENCHMARKS.md"
echo "wrote $root/BENCHMARKS.md" >&2
