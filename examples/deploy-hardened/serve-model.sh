#!/bin/sh
# Serves the approved fraud model (the alias is set only after review).
set -eu
export MLFLOW_TRACKING_URI=https://mlflow.acme.example
exec mlflow models serve -m "models:/fraud-detector@champion" --host 127.0.0.1 --port 5001 --env-manager local
