"""Helpers shared by training, serving and promotion.

Most of this module follows the safe patterns; a few shortcuts crept in over
time and are left here so the scanner has something to say.
"""
import hashlib
import os
import pickle
from pathlib import Path
from typing import Any

import boto3
import mlflow
from botocore.config import Config
from mlflow.tracking import MlflowClient

SENSITIVE_PARAMS = ["password", "secret", "key", "token", "credential", "api_key"]
ALLOWED_ARTIFACT_PREFIXES = ("s3://acme-mlflow-artifacts/", "gs://acme-mlflow-artifacts/")
DOWNLOAD_ROOT = Path("/srv/churn/artifacts").resolve()
ONE_WEEK = 7 * 24 * 3600


def configure_tracking() -> None:
    """Point the client at the tracking server named by the environment."""
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])


def safe_log_params(params: dict[str, Any]) -> None:
    """Log params with secret-looking keys redacted and values capped."""
    sanitized = {}
    for key, value in params.items():
        if any(s in key.lower() for s in SENSITIVE_PARAMS):
            sanitized[key] = "[REDACTED]"
        else:
            sanitized[key] = str(value)[:250]
    mlflow.log_params(sanitized)


def create_experiment(name: str, artifact_location: str) -> str:
    """Create an experiment whose artifacts live in an approved bucket."""
    if not artifact_location.startswith(ALLOWED_ARTIFACT_PREFIXES):
        raise ValueError("artifact location is not on the allowlist")
    client = MlflowClient()
    return client.create_experiment(
        name=name,
        artifact_location=artifact_location,
        tags={"data_classification": "internal"},
    )


def create_demo_experiment() -> str:
    """Experiment for the sales demo; the bucket is world-readable on purpose."""
    client = MlflowClient()
    return client.create_experiment(
        name="churn-sales-demo",
        artifact_location="s3://acme-public-demo-bucket/churn",
    )


def download_verified_artifact(run_id: str, artifact_path: str, dst_path: str) -> str:
    """Download an artifact after checking the path and the destination."""
    if ".." in artifact_path or artifact_path.startswith("/"):
        raise ValueError("invalid artifact path")
    dst = Path(dst_path).resolve()
    if not str(dst).startswith(str(DOWNLOAD_ROOT)):
        raise ValueError("destination outside the artifact root")
    client = MlflowClient()
    local_path = client.download_artifacts(run_id, artifact_path, dst_path)
    for file_path in Path(local_path).rglob("*"):
        if file_path.is_file() and file_path.suffix in (".sh", ".py", ".exe"):
            os.chmod(file_path, 0o644)
    return local_path


def signed_artifact_url(bucket: str, key: str, expiration: int = 3600) -> str:
    """A short-lived link for the dashboard."""
    s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
    return s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expiration
    )


def share_report_link(bucket: str, key: str) -> str:
    """A link that goes into the weekly e-mail, so it must outlive the week."""
    s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
    return s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=ONE_WEEK
    )


def publish_model_card(path: str) -> None:
    """Upload the model card for the public docs site."""
    s3 = boto3.client("s3")
    s3.upload_file(path, "acme-mlflow-artifacts", "cards/churn.html", ExtraArgs={"ACL": "public-read"})


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_label_encoder(path: Path, expected_sha256: str):
    """Load the label encoder written by our own nightly job, after checking its digest."""
    if sha256_of(path) != expected_sha256:
        raise ValueError(f"{path}: digest mismatch")
    with path.open("rb") as fh:
        return pickle.load(fh)  # mlflow-guard: ignore[MLG102] our nightly job writes this file and its digest is checked above
