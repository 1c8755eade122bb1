#!/usr/bin/env bash
# The bounded-resources suite (issues 9 and 10): every analyzer on generated
# hostile inputs (deep nesting, 7 MB literals, doubling expansions, repeated
# pickle imports, overlapping zip members, nested compressed streams, a
# 64 MiB dense pickle), each asserting its peak Go heap and resident-set
# growth stay under 256 MiB. scripts/checks.sh runs it after the full suite.
#
# GOMEMLIMIT=256MiB is the per-worker budget itself: the tests run one
# hostile analysis at a time per test process, so with the limit the Go GC
# collects before the heap passes the budget, and the peaks the tests read
# are the live set, not garbage the collector had not reached yet. Measured
# on 2026-12-04 (bench/bounded.sh records the numbers): the largest Go-heap
# peak is 81 MiB (python, deeply nested code), the largest resident-set
# growth 179 MiB (python, a 7.8 MB file; tree-sitter's C memory, which
# GOMEMLIMIT does not govern), the model analyzer's at most 32 MiB and the
# pickle walker's child processes at most 83 MiB. A regression that needs
# more than the budget fails the assertions; one that grows garbage instead
# shows up as GC time, which the limit forces to be spent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export MLFLOW_GUARD_VENV=${MLFLOW_GUARD_VENV:-$root/.venv}
export GOMEMLIMIT=256MiB
# TestBounded*: python, deploy and model analyzers (in process, VmHWM and
# runtime/metrics); TestWalkMemoryBounded: the pickle walker, measured in
# child processes by the kernel's peak RSS.
# pipefail: the pipeline fails when go test does (grep only drops the
# "=== RUN" lines of -v, which keeps each test's logged peaks).
go test -count=1 -timeout 20m -run 'TestBounded|TestWalkMemoryBounded' -v ./internal/... 2>&1 |
  grep -vE '^=== |^testing: warning: no tests to run|\[no tests to run\]'
