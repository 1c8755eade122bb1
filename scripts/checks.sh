#!/usr/bin/env bash
# Static checks and the race detector; .ci/run runs this after
# scripts/test.sh (which creates the pinned virtualenv the tests use).
#   go vet ./...
#   staticcheck ./...        (a pinned release, installed into a temp GOBIN)
#   scripts/bounded.sh       (peak-memory tests under GOMEMLIMIT)
#   go test -race -short     (the packages below)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export MLFLOW_GUARD_VENV=${MLFLOW_GUARD_VENV:-$root/.venv}

# staticcheck 2026.1.x; an older release cannot load Go 1.26's standard library.
STATICCHECK_VERSION=v0.8.2

echo "== go vet ./..."
go vet ./...

echo "== staticcheck ${STATICCHECK_VERSION} ./..."
gobin=$(mktemp -d)
trap 'rm -rf "$gobin"' EXIT
GOBIN=$gobin GOFLAGS=-mod=mod go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
"$gobin/staticcheck" ./...

# The race detector on the packages that run goroutines: the scan's worker
# pool, the CLI end to end, the audit's concurrent readers, the driver, the
# MLflow client. -short skips the tests that start MLflow servers,
# PostgreSQL or the built binary (the full suite in scripts/test.sh runs
# those without -race). The parsers (analyze/python, analyze/model, deploy)
# are single-goroutine per file and their corpus tests are the slowest of
# the suite; under the race detector they would cost minutes for nothing
# the scan and CLI tests do not already exercise through the pool.
# internal/secrets is left out too: its linear-time tests measure wall time,
# which the race detector's 5-10x slowdown would break.
race_pkgs=(
  ./cmd/...
  ./internal/analyze
  ./internal/analyze/analyzetest
  ./internal/audit
  ./internal/cli
  ./internal/config
  ./internal/finding
  ./internal/gateway
  ./internal/mlflowapi
  ./internal/policy
  ./internal/pull
  ./internal/report
  ./internal/rules
  ./internal/safeio
  ./internal/scan
  ./internal/store
  ./internal/triage
)
echo "== bounded-resources suite (GOMEMLIMIT=256MiB)"
scripts/bounded.sh

echo "== go test -race -short ${race_pkgs[*]}"
go test -race -short -count=1 -timeout 20m "${race_pkgs[@]}"
