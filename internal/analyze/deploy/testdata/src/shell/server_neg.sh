#!/bin/bash
# hard negatives: loopback bind, the auth app, TLS to the database,
# unresolved variables, pinned model references, encrypted uploads
mlflow server --host 127.0.0.1 --port 5000
mlflow server --host 0.0.0.0 --app-name basic-auth --backend-store-uri "postgresql://mlflow@db.example.com/mlflow?sslmode=verify-full"  # want: MLG402
mlflow server --backend-store-uri "${DB_URI}" --host "${MLFLOW_BIND}"
mlflow server --backend-store-uri "$(cat /run/secrets/db_uri)" --host localhost
mlflow models serve -m models:/churn/7
mlflow models serve -m "models:/churn@champion"
export MLFLOW_S3_UPLOAD_EXTRA_ARGS='{"ServerSideEncryption": "aws:kms"}'
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY}"
export MLFLOW_TRACKING_URI=http://127.0.0.1:5000
echo "mlflow server --host 0.0.0.0"
# a flag wins over the environment variable MLflow reads for it
MLFLOW_HOST=0.0.0.0 mlflow server --host 127.0.0.1
MLFLOW_HOST=0.0.0.0 mlflow server --app-name basic-auth  # want: MLG402 MLG405
env MLFLOW_SERVER_CORS_ALLOWED_ORIGINS='*' mlflow server  # want: MLG408
