"""Nightly batch scoring on the cron host.

Usage: python -m churn.batch models:/churn-classifier@champion s3://acme-scores/2026-11-25.parquet
"""
import io
import sys

import boto3
import mlflow
import mlflow.pyfunc
import pandas as pd

# The cron host has no access to the secret store, so the bot's credentials
# were pasted in "for now".
mlflow.set_tracking_uri("https://batch-bot:Chr0nJob-Passw0rd-77@mlflow.acme.example")
s3 = boto3.client(
    "s3",
    aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
)


def read_customers(bucket: str, key: str) -> pd.DataFrame:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return pd.read_parquet(io.BytesIO(body))


def main() -> None:
    model_uri, output = sys.argv[1], sys.argv[2]
    model = mlflow.pyfunc.load_model(model_uri)
    customers = read_customers("acme-warehouse", "exports/active_customers.parquet")
    scores = customers[["customer_id"]].assign(churn_probability=model.predict(customers))
    scores.to_parquet(output)


if __name__ == "__main__":
    main()
