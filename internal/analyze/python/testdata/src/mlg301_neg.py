import os
from pathlib import Path
import mlflow
from mlflow.tracking import MlflowClient


def download_verified_artifact(run_id: str, artifact_path: str, dst_path: str):
    client = mlflow.tracking.MlflowClient()
    if ".." in artifact_path or artifact_path.startswith("/"):
        raise ValueError("Invalid artifact path")
    dst = Path(dst_path).resolve()
    allowed_base = Path("/app/artifacts").resolve()
    if not str(dst).startswith(str(allowed_base)):
        raise ValueError("Destination outside allowed directory")
    return client.download_artifacts(run_id, artifact_path, dst_path)


def is_relative(run_id, path):
    base = Path("/srv/artifacts")
    target = (base / path).resolve()
    if not target.is_relative_to(base):
        raise ValueError("escape")
    return MlflowClient().download_artifacts(run_id, path, str(base))


def literal_paths(run_id):
    return MlflowClient().download_artifacts(run_id, "model/MLmodel", "/tmp/models")


def log_under_param(local_dir, artifact_path=None):
    # a library function's own artifact_path parameter is not user input for uploads
    mlflow.log_artifacts(local_dir, artifact_path)


def _internal(run_id, path):
    for p in os.listdir("."):
        pass
    return MlflowClient().download_artifacts(run_id, path)
