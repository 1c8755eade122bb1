#!/bin/bash
mlflow server --host 0.0.0.0 --port 5000  # want: MLG401 MLG402 MLG405
mlflow server --backend-store-uri postgresql://mlflow:S3cr3tPassw0rd@db.example.com/mlflow --app-name basic-auth  # want: MLG403 MLG406
mlflow ui --backend-store-uri sqlite:///mlflow.db --workers 4  # want: MLG405
python3 -m mlflow server --app-name basic-auth --allowed-hosts '*' --cors-allowed-origins '*' --x-frame-options NONE --disable-security-middleware  # want: MLG408 MLG408 MLG408 MLG408
HOST=0.0.0.0
cd /srv && exec mlflow server \
  --backend-store-uri "postgresql://mlflow@db.example.com/mlflow?sslmode=verify-full" \
  --host "$HOST"  # want: MLG401 MLG402
sh -c "mlflow server --host 0.0.0.0 --app-name basic-auth --backend-store-uri postgresql://db.example.com/m?sslmode=require"  # want: MLG402
gunicorn -b 0.0.0.0:5000 -w 4 mlflow.server:app  # want: MLG401 MLG402
uvicorn --factory mlflow.server.auth:create_app --host 0.0.0.0 --port 5000  # want: MLG402
mlflow models serve -m models:/churn/latest -p 5001  # want: MLG104
export MLFLOW_S3_UPLOAD_EXTRA_ARGS='{"ACL": "private"}'  # want: MLG303
MLFLOW_TRACKING_INSECURE_TLS=true python train.py  # want: MLG407
sudo -u mlflow nice -n 10 timeout -s INT 3600 mlflow server --host :: --app-name basic-auth --backend-store-uri postgresql://db.example.com/m?sslmode=verify-full  # want: MLG402
