# f-strings that fix the scheme and the bucket, both branches fixing
# "models:/", and the code's own log_model result are format checks.
import os
import sys

import mlflow

RUN_ID = os.getenv("RUN_ID")
logged_model = f"s3://mlflow-models-team/1/{RUN_ID}/artifacts/model"
model = mlflow.pyfunc.load_model(logged_model)


def apply_model(run_id, alias):
    if alias:
        model_uri = f"models:/churn@{alias}"
    else:
        model_uri = f"models:/churn/{run_id}"
    return mlflow.pyfunc.load_model(model_uri)


def train(name):
    info = mlflow.sklearn.log_model(sys.argv[1], name=name)
    return mlflow.pyfunc.load_model(info.model_uri)


def scheme_only(bucket_and_path):
    return mlflow.pyfunc.load_model("s3://" + bucket_and_path)  # want: MLG103


def empty_authority(path):
    return mlflow.pyfunc.load_model(f"file:///{path}")  # want: MLG103


def one_branch_open(run_id, uri):
    model_uri = f"runs:/{run_id}/model" if run_id else uri
    return mlflow.pyfunc.load_model(model_uri)  # want: MLG103


def either_scheme(run_id, name, version):
    model_uri = f"runs:/{run_id}/model"
    if name:
        model_uri = f"models:/{name}/{version}"
    return mlflow.pyfunc.load_model(model_uri)


def pinned_then_open(run_id, name, uri):
    model_uri = f"runs:/{run_id}/model"
    if name:
        model_uri = uri
    return mlflow.pyfunc.load_model(model_uri)  # want: MLG103



if __name__ == "__main__":
    scheme_only(sys.argv[1])
    empty_authority(sys.argv[1])
    one_branch_open(None, sys.argv[1])
    pinned_then_open("abc", "n", os.environ["MODEL_URI"])
