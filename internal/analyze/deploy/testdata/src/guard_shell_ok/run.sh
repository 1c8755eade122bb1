#!/bin/sh
# loopback behind the guard on the same host: no finding
mlflow server --host 127.0.0.1 --port 5000 --backend-store-uri "postgresql://db.example.com/mlflow?sslmode=require" &
exec mlflow-guard serve --upstream http://127.0.0.1:5000 --listen 0.0.0.0:8443 --tls-cert /etc/guard/tls.crt --tls-key /etc/guard/tls.key --data-dir /var/lib/guard
