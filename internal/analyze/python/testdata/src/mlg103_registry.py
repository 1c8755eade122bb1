# An admin tool: the command line names a registered version, a run or a
# logged model; what is downloaded or loaded is the registry's own record
# of it (a version's source, a logged model's artifact location), not a URI
# the operator typed. The operator's URI itself is still checked.
import argparse

import mlflow
from mlflow import MlflowClient


def export_logged_model(model_id, output_dir):
    mlflow_client = MlflowClient()
    logged_model = mlflow_client.get_logged_model(model_id)
    mlflow.artifacts.download_artifacts(artifact_uri=logged_model.artifact_location, dst_path=output_dir)


def load_version(name, version):
    client = MlflowClient()
    vr = client.get_model_version(name, version)
    uri = client.get_model_version_download_uri(name, version)
    return mlflow.pyfunc.load_model(vr.source), mlflow.artifacts.download_artifacts(artifact_uri=uri)


def load_run_model(run_id):
    run = mlflow.get_run(run_id)
    return mlflow.pyfunc.load_model(run.info.artifact_uri + "/model")


def load_typed(model_uri):
    return mlflow.pyfunc.load_model(model_uri)  # want: MLG103


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--model-id")
    p.add_argument("--name")
    p.add_argument("--version")
    p.add_argument("--run-id")
    p.add_argument("--model-uri")
    a = p.parse_args()
    export_logged_model(a.model_id, "out")
    load_version(a.name, a.version)
    load_run_model(a.run_id)
    load_typed(a.model_uri)
