import os
import boto3

os.environ["MLFLOW_S3_ENDPOINT_URL"] = "https://s3.eu-west-1.amazonaws.com"
os.environ["MLFLOW_S3_ENDPOINT_URL"] = "http://localhost:9000"
os.environ["MLFLOW_S3_IGNORE_TLS"] = "false"


def upload(path):
    boto3.client("s3").upload_file(path, "mlflow-artifacts", "model.onnx", ExtraArgs={"ServerSideEncryption": "aws:kms"})
