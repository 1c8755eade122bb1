#!/bin/sh
exec mlflow server --host 0.0.0.0 --backend-store-uri "postgresql://db.example.com/mlflow?sslmode=require"  # want: MLG401 MLG402
