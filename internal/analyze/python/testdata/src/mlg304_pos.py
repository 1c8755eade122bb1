import os
import boto3

os.environ["MLFLOW_S3_IGNORE_TLS"] = "true"  # want: MLG304
os.environ["MLFLOW_S3_ENDPOINT_URL"] = "http://minio.corp.example:9000"  # want: MLG304


def publish(path):
    s3 = boto3.client("s3")
    s3.upload_file(path, "mlflow-artifacts", "model.onnx", ExtraArgs={"ACL": "public-read"})  # want: MLG304
