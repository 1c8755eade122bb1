#!/bin/sh
# Reads the database password from the compose secret and starts MLflow
# with the arguments given (the image's CMD).
set -eu
DB_PASSWORD=$(cat /run/secrets/db_password)
exec mlflow server \
  --backend-store-uri "postgresql+psycopg2://mlflow:${DB_PASSWORD}@db:5432/mlflow?sslmode=verify-full&sslrootcert=/certs/ca.crt" \
  --artifacts-destination /mlartifacts \
  --serve-artifacts \
  --allowed-hosts mlflow,mlflow:5000 \
  "$@"
