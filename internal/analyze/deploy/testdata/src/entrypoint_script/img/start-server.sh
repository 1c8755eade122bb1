#!/bin/sh
set -e
exec mlflow server --backend-store-uri "postgresql://db.internal/mlflow?sslmode=require" "$@"
