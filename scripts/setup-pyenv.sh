#!/usr/bin/env bash
# Creates the test virtualenv (default .venv at the repo root, or
# $MLFLOW_GUARD_VENV) with the pinned MLflow and model libraries. Idempotent:
# a venv whose stamp matches the requirements file is reused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${MLFLOW_GUARD_VENV:-$root/.venv}
req=$root/scripts/requirements-test.txt
stamp=$venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "setup-pyenv: $venv is current" >&2
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
echo "$want" > "$stamp"
echo "setup-pyenv: created $venv" >&2
