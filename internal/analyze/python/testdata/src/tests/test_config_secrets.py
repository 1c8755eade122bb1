# A test suite sets credentials to fixture values ("test-key-12345"):
# those are not secrets. A real-looking key in a test is still one.
import os

import boto3
import mlflow


def test_config_reads_api_key():
    os.environ["ZHIPU_API_KEY"] = "test-key-12345"
    os.environ["MLFLOW_TRACKING_PASSWORD"] = "hunter2"
    boto3.client("s3", aws_secret_access_key="minio123")
    assert mlflow.get_tracking_uri()


def test_with_a_committed_key():
    os.environ["OPENAI_API_KEY"] = "sk-proj-4f9Qa8Zr2Lw0Xv7Tb3NcQ1Hd"  # want: MLG403
    boto3.client("s3", aws_secret_access_key="q8Zr2Lw9XvB4nT7kPm3Hs6Jd/Yt5Fc1Ug0Ia")  # want: MLG403
