"""Things that look close to a finding but are not one."""
import json
import mlflow
from mlflow.tracking import MlflowClient


def load(path):
    # a local function named like pickle.load is not pickle
    with open(path) as fh:
        return json.load(fh)


def use_local(path):
    return load(path)


class Registry:
    def transition_model_version_stage(self, *a):
        return a


def not_mlflow():
    Registry().transition_model_version_stage("m", "1", "Production")


def metrics():
    mlflow.log_metric("key_metric", 0.91)
    mlflow.log_params({"tokenizer": "wordpiece", "max_tokens": 256, "secret_sauce_version": 3})


def uri_allowlist(model_uri):
    allowed = ("models:/fraud@champion", "models:/fraud/12")
    if model_uri in allowed:
        return mlflow.pyfunc.load_model(model_uri)
    raise ValueError("unknown model")


def champion():
    return mlflow.pyfunc.load_model("models:/fraud@champion")


def fixed_download(run_id):
    return MlflowClient().download_artifacts(run_id, "model", "/tmp/model")


def docstring_mentions():
    """Never do mlflow.log_params(os.environ) or pickle.load(untrusted)."""
    return "models:/x/latest is bad"
