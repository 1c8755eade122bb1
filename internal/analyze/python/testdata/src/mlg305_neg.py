import boto3
from botocore.config import Config


def get_signed_artifact_url(bucket: str, key: str, expiration: int = 3600) -> str:
    s3_client = boto3.client("s3", config=Config(signature_version="s3v4"))
    return s3_client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expiration)


def short(bucket, key):
    return boto3.client("s3").generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=900)


def azure_sas(account, container, blob, key):
    from datetime import datetime, timedelta, timezone
    from azure.storage.blob import generate_blob_sas
    return generate_blob_sas(account, container, blob, account_key=key, expiry=datetime.now(timezone.utc) + timedelta(minutes=30))
