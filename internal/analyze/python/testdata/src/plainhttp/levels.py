import os
import mlflow

# Judged as the deploy analyzer judges the same variables in compose, .env
# and shell: plain http beyond loopback is reported; a single-label name
# (a compose service) is advisory (TestPlainHTTPLevels checks the levels).
mlflow.set_tracking_uri("http://mlflow:5000")  # want: MLG407
os.environ["MLFLOW_S3_ENDPOINT_URL"] = "http://minio:9000"  # want: MLG304
os.environ["MLFLOW_S3_ENDPOINT_URL"] = "http://s3.acme.example:9000"  # want: MLG304
os.environ["MLFLOW_REGISTRY_URI"] = "http://registry.acme.example:5000"  # want: MLG407
os.environ["MLFLOW_S3_ENDPOINT_URL"] = "https://s3.acme.example"
mlflow.set_tracking_uri("http://127.0.0.1:5000")
mlflow.set_tracking_uri("http://10.0.0.5")  # want: MLG407


def artifact_client():
    import boto3
    internal = boto3.client("s3", endpoint_url="http://minio:9000")  # want: MLG304
    remote = boto3.client("s3", endpoint_url="http://s3.acme.example:9000")  # want: MLG304
    secure = boto3.client("s3", endpoint_url="https://s3.acme.example")
    local = boto3.resource("s3", endpoint_url="http://127.0.0.1:9000")
    return internal, remote, secure, local
