import mlflow
from mlflow.artifacts import download_artifacts
from mlflow.tracking import MlflowClient
from flask import Flask, request

app = Flask(__name__)


class Fetcher:
    def __init__(self, uri):
        self.client = MlflowClient(tracking_uri=uri)

    def fetch(self, run_id, artifact_path):
        # a method's parameters are its caller's to choose; no caller here passes input
        return self.client.download_artifacts(run_id, artifact_path)


def fetch_to(run_id, dst):
    return download_artifacts(run_id=run_id, artifact_path="model", dst_path=dst)  # want: MLG301


@app.route("/upload")
def upload():
    name = request.args["name"]
    mlflow.log_artifact("report.html", artifact_path=name)  # want: MLG301
    mlflow.log_text("hello", request.args["file"])  # want: MLG301
    return "ok"


def fluent_traversal(run_id, sub):
    return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=f"models/{sub}")  # want: MLG301



@app.route("/fetch/<run_id>/<path:sub>")
def fetch_route(run_id, sub):
    fetch_to(run_id, request.args["dst"])
    return fluent_traversal(run_id, sub)
