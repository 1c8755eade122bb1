import os
import mlflow
from mlflow import MlflowClient

client = MlflowClient()


def load(model_uri):
    return mlflow.pyfunc.load_model(model_uri)  # want: MLG103 "given environment variable MODEL_URI (passed by the call on line 14)"


def serve():
    uri = os.getenv("MODEL_URI")
    return load(uri)


def from_env():
    run_id = os.getenv("RUN_ID")
    mlflow.pyfunc.load_model(run_id)  # want: MLG103 "from environment variable RUN_ID without"


def promote(stage, name, version):
    if stage == "Production":
        client.transition_model_version_stage(name, version, stage)  # want: MLG105 "protected stage \"Production\""


def promote_else(stage, name, version):
    if stage != "Staging":
        return
    client.transition_model_version_stage(name, version, stage)  # want: MLG105 "protected stage \"Staging\""


def promote_other(stage, name, version):
    if stage == "Production":
        return
    client.transition_model_version_stage(name, version, stage)  # want: MLG105 "sets a computed stage"


def promote_env(name, version):
    stage = os.getenv("TARGET_STAGE")
    client.transition_model_version_stage(name, version, stage)  # want: MLG105 "sets a stage taken from environment variable TARGET_STAGE"
