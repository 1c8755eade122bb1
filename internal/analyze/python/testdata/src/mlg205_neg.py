import mlflow
from mlflow.tracking import MlflowClient


def create_secure_experiment(name: str, artifact_location: str):
    client = mlflow.tracking.MlflowClient()
    allowed_prefixes = ["s3://mlflow-artifacts/", "gs://mlflow-artifacts/"]
    if not any(artifact_location.startswith(p) for p in allowed_prefixes):
        raise ValueError("Invalid artifact location")
    return client.create_experiment(name=name, artifact_location=artifact_location)


mlflow.create_experiment("ok", artifact_location="s3://mlflow-artifacts/team-a")
MlflowClient().create_experiment("default-location")
