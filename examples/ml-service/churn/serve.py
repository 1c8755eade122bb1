"""HTTP API in front of the churn model.

Run: flask --app churn.serve run --host 127.0.0.1 --port 8080
"""
import os
import tempfile

import joblib
import mlflow
import mlflow.pyfunc
import pandas as pd
import torch
from flask import Flask, abort, jsonify, request
from mlflow.tracking import MlflowClient

from churn.utils import configure_tracking

app = Flask(__name__)
configure_tracking()
client = MlflowClient()

# Safe: a pinned alias that only an approved promotion moves.
MODEL_URI = "models:/churn-classifier@champion"
model = mlflow.pyfunc.load_model(MODEL_URI)
ALLOWED_ARTIFACTS = {"metrics.json", "confusion_matrix.png", "feature_importance.csv"}


@app.post("/predict")
def predict():
    rows = request.get_json(force=True)
    if not isinstance(rows, list) or len(rows) > 1000:
        abort(400, "expected a list of at most 1000 rows")
    return jsonify(model.predict(pd.DataFrame(rows)).tolist())


@app.post("/admin/reload")
def reload_model():
    """Lets the on-call engineer swap the model without a deploy."""
    global model
    model = mlflow.pyfunc.load_model(request.json["model_uri"])
    return jsonify({"status": "reloaded"})


@app.get("/shadow/predict")
def shadow_predict():
    """Compares the champion with whatever was registered last."""
    candidate = mlflow.pyfunc.load_model("models:/churn-classifier/latest")
    frame = pd.DataFrame([request.args.to_dict()])
    return jsonify({"champion": model.predict(frame).tolist(), "candidate": candidate.predict(frame).tolist()})


@app.post("/feedback")
def feedback():
    """Customer-success agents explain why a prediction was wrong."""
    with mlflow.start_run(run_name="feedback"):
        mlflow.log_param("agent_comment", request.form["comment"])
        mlflow.log_param("ticket", str(request.form["ticket"])[:64])
    return "", 204


@app.get("/runs/<run_id>/artifacts")
def get_artifact(run_id: str):
    """Dashboard download button."""
    name = request.args["path"]
    local = client.download_artifacts(run_id, name, tempfile.gettempdir())
    with open(local, "rb") as fh:
        return fh.read()


@app.get("/runs/<run_id>/report")
def get_report(run_id: str):
    """Only the files the dashboard knows about may be fetched."""
    name = request.args["path"]
    if name not in ALLOWED_ARTIFACTS:
        abort(404)
    local = client.download_artifacts(run_id, name, tempfile.mkdtemp())
    with open(local, "rb") as fh:
        return fh.read()


def load_embeddings(run_id: str):
    """The text features come from an embedding model logged by the NLP team."""
    local = client.download_artifacts(run_id, "embeddings/encoder.pt")
    return torch.load(local, map_location="cpu")


def load_legacy_model(run_id: str):
    local = client.download_artifacts(run_id, "model.pkl")
    return joblib.load(local)


def apply_preprocessing(run_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Runs the feature-engineering script that was logged with the run."""
    script = client.download_artifacts(run_id, "preprocess.py")
    scope = {"frame": frame}
    exec(open(script).read(), scope)
    return scope["frame"]


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
