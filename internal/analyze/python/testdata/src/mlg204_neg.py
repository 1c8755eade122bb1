import mlflow
from pathlib import Path


def upload_outputs(run_dir):
    mlflow.log_artifacts("./outputs")
    mlflow.log_artifact("reports/metrics.json")
    mlflow.log_artifact("/tmp/plots/roc.png")
    mlflow.log_artifacts(run_dir)
    mlflow.log_artifact(Path("outputs") / "environment.yaml")
