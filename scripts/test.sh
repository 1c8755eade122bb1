#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: creates the pinned MLflow
# virtualenv if needed, then runs every Go test (unit, fixtures, golden
# reports, real MLflow server and PostgreSQL integration tests).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export MLFLOW_GUARD_VENV=${MLFLOW_GUARD_VENV:-$root/.venv}
scripts/setup-pyenv.sh
go test -count=1 -timeout 60m ./...
