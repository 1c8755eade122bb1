import boto3
from datetime import timedelta
from google.cloud import storage

ONE_WEEK = 7 * 24 * 3600
s3 = boto3.client("s3")


def week_link(bucket, key):
    return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=ONE_WEEK)  # want: MLG305


def default_long(bucket, key, expiration: int = 86400):
    client = boto3.client("s3")
    return client.generate_presigned_url("get_object", {"Bucket": bucket, "Key": key}, expiration)  # want: MLG305


def gcs_link(blob_name):
    blob = storage.Client().bucket("mlflow-artifacts").blob(blob_name)
    return blob.generate_signed_url(expiration=timedelta(hours=12))  # want: MLG305


def azure_sas(account, container, blob, key):
    from datetime import datetime, timezone
    from azure.storage.blob import generate_blob_sas
    return generate_blob_sas(account, container, blob, account_key=key, expiry=datetime.now(timezone.utc) + timedelta(days=1))  # want: MLG305
