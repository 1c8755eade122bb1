import mlflow
from mlflow.tracking import MlflowClient

MODEL_URI = "models:/fraud/latest"


def load_latest():
    return mlflow.pyfunc.load_model(MODEL_URI)  # want: MLG104


def load_latest_fstring(name):
    return mlflow.pyfunc.load_model(f"models:/{name}/latest")  # want: MLG104


def newest(name):
    client = MlflowClient()
    versions = client.get_latest_versions(name)  # want: MLG104
    return versions[0].source


def by_format(name):
    return mlflow.sklearn.load_model("models:/{}/latest".format(name))  # want: MLG104


def newest_unapproved(name):
    client = MlflowClient()
    return client.get_latest_versions(name, ["None"])[0].source  # want: MLG104


from flask import Flask, request

app = Flask(__name__)


@app.route("/latest")
def latest_for_request():
    client = MlflowClient()
    return client.get_latest_versions("fraud", [request.args["stage"]])[0].source  # want: MLG104
