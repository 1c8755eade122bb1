import mlflow
from mlflow.tracking import MlflowClient
from fastapi import FastAPI

app = FastAPI()
client = MlflowClient()

mlflow.create_experiment("a", artifact_location="file:///var/mlflow")  # want: MLG205
mlflow.create_experiment("b", "http://minio.internal/bucket")  # want: MLG205
client.create_experiment("c", artifact_location="s3://team-bucket/%252e%252e/other")  # want: MLG205
client.create_experiment("d", artifact_location="s3://team-bucket/x#frag")  # want: MLG205
client.create_experiment(name="e", artifact_location="gs://public-datasets/mlflow")  # want: MLG205
client.create_experiment("f", artifact_location="s3://other-team/mlflow")  # want: MLG205


@app.post("/experiments")
def create(name: str, location: str):
    return client.create_experiment(name, artifact_location=location)  # want: MLG205
