"""Import and alias resolution: every spelling of the same sink."""
import mlflow.pyfunc
import mlflow.tracking
from mlflow.pyfunc import load_model as lm
from mlflow import MlflowClient as Client
from pickle import load
from joblib import load as jload
import numpy as npy
import pandas

module_client = mlflow.tracking.MlflowClient()


def one(uri, p):
    lm(uri)  # want: MLG103
    mlflow.pyfunc.load_model(uri)  # want: MLG103
    load(open(p, "rb"))  # want: MLG102
    jload(p)  # want: MLG102
    npy.load(p, allow_pickle=True)  # want: MLG102
    pandas.read_pickle(p)  # want: MLG102


def two(run_id, path):
    module_client.download_artifacts(run_id, path)  # want: MLG301
    c = Client()
    c.transition_model_version_stage("m", "1", "Staging")  # want: MLG105
    Client().set_registered_model_alias("m", "production", "1")  # want: MLG105


def local_import(p):
    import torch as th
    return th.load(p)  # want: MLG102


def three(p):
    from mlflow.tracking import MlflowClient
    client = MlflowClient()
    return client.download_artifacts("run", p)  # want: MLG301


class Service:
    def __init__(self):
        self.registry = Client()

    def run(self, name, version):
        self.registry.transition_model_version_stage(name, version, "Production", archive_existing_versions=True)  # want: MLG105


# A library function's parameters are its caller's to choose; the command
# line reaching them through the call below is what makes these findings.
if __name__ == "__main__":
    import sys
    one(sys.argv[1], sys.argv[2])
    two(sys.argv[1], sys.argv[2])
    three(sys.argv[3])
