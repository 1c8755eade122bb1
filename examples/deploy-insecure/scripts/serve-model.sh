#!/bin/sh
# Serves the current fraud model for the scoring API.
export MLFLOW_TRACKING_URI=http://mlflow.acme.example
exec mlflow models serve -m "models:/fraud-detector/latest" --host 127.0.0.1 --port 5001 --env-manager local
