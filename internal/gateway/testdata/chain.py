"""Drives the real MLflow client for the end-to-end approval chain test.

argv[1] is a JSON list of [action, arg...]; prints one line "RESULT <json>"
with one {"ok": ..., "value"|"code"+"message"} per action (the protocol of
approvals.py). MARKER names a file a malicious payload would create.
"""
import json
import os
import pickle
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
import logging

logging.disable(logging.WARNING)

import mlflow
import requests
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException
from sklearn.linear_model import LogisticRegression

client = MlflowClient()
X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]])
y = np.array([0, 1, 0, 1])
TRUSTED = ["sklearn.linear_model._logistic.LogisticRegression"]


class Payload:
    """Runs a shell command when unpickled (the CVE-2024-37052 shape)."""

    def __reduce__(self):
        return (os.system, ("touch " + os.environ["MARKER"],))


def register(name, c):
    """Logs a skops sklearn model and registers it: the gate scans it."""
    mlflow.set_experiment("chain")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(LogisticRegression(C=float(c)).fit(X, y), name="model",
                                        serialization_format="skops", skops_trusted_types=TRUSTED,
                                        pip_requirements=["scikit-learn"], registered_model_name=name)
    return str(info.registered_model_version)


def register_runs(name):
    """Saves a skops model, logs it as plain run artifacts and registers it
    from a runs:/ source (the pre-3.0 way)."""
    mlflow.set_experiment("chain")
    with mlflow.start_run() as run:
        d = os.path.join(tempfile.mkdtemp(), "runmodel")
        mlflow.sklearn.save_model(LogisticRegression().fit(X, y), d, serialization_format="skops",
                                  skops_trusted_types=TRUSTED, pip_requirements=["scikit-learn"])
        mlflow.log_artifacts(d, artifact_path="runmodel")
        rid = run.info.run_id
    return create_version(name, "runs:/%s/runmodel" % rid, rid)


def log_evil():
    """Logs a pickle that runs a command on load; returns [source, run id]."""
    mlflow.set_experiment("chain-evil")
    with mlflow.start_run() as run:
        d = os.path.join(tempfile.mkdtemp(), "evil")
        os.makedirs(d)
        with open(os.path.join(d, "MLmodel"), "w") as f:
            f.write("flavors:\n  sklearn:\n    pickled_model: model.pkl\n"
                    "    serialization_format: pickle\n    sklearn_version: 1.5.0\n")
        with open(os.path.join(d, "model.pkl"), "wb") as f:
            pickle.dump(Payload(), f)
        mlflow.log_artifacts(d, artifact_path="evil")
        return [run.info.artifact_uri + "/evil", run.info.run_id]


def create_version(name, src, run_id):
    try:
        client.create_registered_model(name)
    except MlflowException:
        pass
    return str(client.create_model_version(name, src, run_id=run_id).version)


ACTIONS = {
    "register": register,
    "log_evil": log_evil,
    "register_runs": register_runs,
    "create_version": create_version,
    "set_alias": lambda n, a, v: client.set_registered_model_alias(n, a, v),
    "transition": lambda n, v, s: client.transition_model_version_stage(n, v, s).current_stage,
}


def main():
    results = []
    for action, *args in json.loads(sys.argv[1]):
        try:
            v = ACTIONS[action](*args)
            results.append({"ok": True, "value": v})
        except RestException as e:
            results.append({"ok": False, "code": e.error_code, "message": str(e)})
        except MlflowException as e:
            results.append({"ok": False, "code": e.error_code, "message": str(e)})
        except requests.HTTPError as e:  # artifact uploads raise these
            code = e.response.status_code if e.response is not None else 0
            results.append({"ok": False, "code": "HTTP_%d" % code, "message": str(e)})
    print("RESULT " + json.dumps(results, default=str))


main()
