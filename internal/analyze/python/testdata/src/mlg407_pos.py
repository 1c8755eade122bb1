import os
import mlflow
from mlflow.tracking import MlflowClient

mlflow.set_tracking_uri("http://mlflow.corp.example:5000")  # want: MLG407
os.environ["MLFLOW_TRACKING_URI"] = "http://10.0.3.7:5000"  # want: MLG407
os.environ["MLFLOW_TRACKING_INSECURE_TLS"] = "true"  # want: MLG407
MlflowClient("http://tracking.internal")  # want: MLG407
