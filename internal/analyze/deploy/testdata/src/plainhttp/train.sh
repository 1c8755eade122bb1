#!/bin/sh
export MLFLOW_TRACKING_URI=http://mlflow.acme.example:5000  # want: MLG407
export MLFLOW_S3_ENDPOINT_URL=http://minio:9000  # want: MLG304
export MLFLOW_REGISTRY_URI=http://localhost:5000
python train.py
