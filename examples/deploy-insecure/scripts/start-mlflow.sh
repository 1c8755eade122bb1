#!/usr/bin/env bash
# Starts the tracking server on the analytics VM (run from cron @reboot).
set -euo pipefail
cd /srv/mlflow
source .venv/bin/activate

MLFLOW_PORT=5000
BIND=0.0.0.0

exec mlflow server \
  --backend-store-uri sqlite:////srv/mlflow/mlflow.db \
  --default-artifact-root /srv/mlflow/artifacts \
  --host "$BIND" --port "$MLFLOW_PORT" \
  --workers 4
