import os
import mlflow
from mlflow import MlflowClient
import boto3
import sqlalchemy

mlflow.set_tracking_uri("https://admin:S3cretPass@mlflow.example.com")  # want: MLG403
os.environ["MLFLOW_TRACKING_PASSWORD"] = "hunter2hunter2"  # want: MLG403
os.environ["OPENAI_API_KEY"] = "sk-proj-4f9Qa8Zr2Lw0Xv7Tb3NcQ1"  # want: MLG403
client = MlflowClient(tracking_uri="https://bot:pa55word@mlflow.example.com")  # want: MLG403
engine = sqlalchemy.create_engine("postgresql://admin:password123@db.internal/mlflow")  # want: MLG403


def session():
    return boto3.client("s3", aws_access_key_id="AKIAEXAMPLEEXAMPLE00", aws_secret_access_key="wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY")  # want: MLG403


def with_host(host):
    return f"postgresql://admin:password123@{host}/mlflow"


mlflow.set_registry_uri(with_host("db"))
mlflow.set_tracking_uri(f"postgresql://mlflow:Zx9!pw@{os.environ['DB_HOST']}/mlflow")  # want: MLG403
