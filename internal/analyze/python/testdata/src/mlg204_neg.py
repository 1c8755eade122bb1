import mlflow
from pathlib import Path


def upload_outputs(run_dir):
    mlflow.log_artifacts("./outputs")
    mlflow.log_artifact("reports/metrics.json")
    mlflow.log_artifact("/tmp/plots/roc.png")
    mlflow.log_artifacts(run_dir)
    mlflow.log_artifact(Path("outputs") / "environment.yaml")


def upload_under_working_directory():
    import os
    mlflow.log_artifacts(os.path.join(os.getcwd(), "outputs"))
    mlflow.log_artifacts(Path.cwd() / "reports")
    mlflow.log_artifact("./metrics.json")
    mlflow.log_artifacts("./outputs/")
