import os
import mlflow
from mlflow.tracking import MlflowClient

mlflow.set_tracking_uri("http://mlflow.corp.example:5000")  # want: MLG407
os.environ["MLFLOW_TRACKING_URI"] = "http://10.0.3.7:5000"  # want: MLG407
os.environ["MLFLOW_TRACKING_INSECURE_TLS"] = "true"  # want: MLG407
MlflowClient("http://tracking.internal")  # want: MLG407


def connect():
    uri = os.environ.get("MLFLOW_TRACKING_URI", "http://mlflow.corp.example:5000")  # want: MLG407
    mlflow.set_tracking_uri(uri)  # reported once, at the fallback
    registry = os.getenv("MLFLOW_REGISTRY_URI", "http://10.0.3.7:5000")  # want: MLG407
    return MlflowClient(registry_uri=registry)
