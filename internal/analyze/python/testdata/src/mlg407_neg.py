import os
import mlflow

mlflow.set_tracking_uri("http://127.0.0.1:5000")
mlflow.set_tracking_uri("http://localhost:5000")
mlflow.set_tracking_uri("https://mlflow.corp.example")
mlflow.set_tracking_uri("databricks")
os.environ["MLFLOW_TRACKING_URI"] = "http://[::1]:5000"
os.environ["MLFLOW_TRACKING_INSECURE_TLS"] = "false"
mlflow.set_tracking_uri(f"http://{os.environ['MLFLOW_HOST']}:5000")


def connect():
    uri = os.environ.get("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    other = os.environ.get("MLFLOW_TRACKING_URI", "https://mlflow.corp.example")
    unrelated = os.environ.get("SERVICE_URL", "http://api.corp.example")
    required = os.environ["MLFLOW_TRACKING_URI"]
    return uri, other, unrelated, required
