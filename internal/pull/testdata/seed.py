"""Seeds a live MLflow server for the pull tests with the real MLflow client.

Writes a JSON object to argv[1]: for every registered model, its versions by
role, and the logged model ids. The test computes manifests, signs approval
records and writes the mlflow-guard.* tags itself, standing in for the
gateway.

Environment: MLFLOW_TRACKING_URI (the server), MARKER (a path the malicious
payloads would create if they were ever loaded).
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

import joblib
import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

client = MlflowClient()
out = {"models": {}}

X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]])
y = np.array([0, 1, 0, 1])
clf = LogisticRegression().fit(X, y)
reqs = ["scikit-learn"]
trusted = ["sklearn.linear_model._logistic.LogisticRegression"]


class Payload:
    """Runs a shell command when unpickled: the CVE-2024-37052 shape."""

    def __reduce__(self):
        return (os.system, ("touch " + os.environ["MARKER"],))


mlflow.set_experiment("pull")
with mlflow.start_run() as run:
    good = mlflow.sklearn.log_model(clf, name="good", serialization_format="skops",
                                    skops_trusted_types=trusted, pip_requirements=reqs)
    # Versions whose files the test changes at the store get their own copy.
    own = {role: mlflow.sklearn.log_model(clf, name=role, serialization_format="skops",
                                          skops_trusted_types=trusted, pip_requirements=reqs)
           for role in ["tampered", "symlink", "badname", "exec"]}
    other = mlflow.sklearn.log_model(LogisticRegression(C=0.5).fit(X, y), name="other",
                                     serialization_format="skops", skops_trusted_types=trusted,
                                     pip_requirements=reqs)
    # Malicious models made with the real pickle and joblib, never loaded.
    for name, dump in [("evil-pickle", lambda p: pickle.dump(Payload(), open(p, "wb"))),
                       ("evil-joblib", lambda p: joblib.dump(Payload(), p))]:
        d = os.path.join(tempfile.mkdtemp(), name)
        os.makedirs(d)
        with open(os.path.join(d, "MLmodel"), "w") as f:
            f.write("flavors:\n  sklearn:\n    pickled_model: model.pkl\n"
                    "    serialization_format: pickle\n    sklearn_version: 1.5.0\n")
        dump(os.path.join(d, "model.pkl"))
        mlflow.log_artifacts(d, artifact_path=name)
    # A model saved locally and logged as plain run artifacts, registered
    # below from a runs:/ source (the pre-3.0 way).
    d = os.path.join(tempfile.mkdtemp(), "runmodel")
    mlflow.sklearn.save_model(clf, d, serialization_format="skops", skops_trusted_types=trusted,
                              pip_requirements=reqs)
    mlflow.log_artifacts(d, artifact_path="runmodel")
    artifact_uri = run.info.artifact_uri
    run_id = run.info.run_id

# One registered model, one version per test case, all of the same files.
roles = ["approved", "unapproved", "forged", "otherdigest", "selfapproved",
         "expired", "copied", "staged", "quarantined", "tampered", "symlink", "badname", "exec"]
versions = {}
for role in roles:
    mv = mlflow.register_model(own[role].model_uri if role in own else good.model_uri, "fraud")
    versions[role] = str(mv.version)
client.set_registered_model_alias("fraud", "champion", versions["approved"])
client.transition_model_version_stage("fraud", versions["staged"], "Production")
out["models"]["fraud"] = versions

ov = mlflow.register_model(other.model_uri, "fraud-other")
out["models"]["fraud-other"] = {"v": str(ov.version)}

client.create_registered_model("fraud-runs")
rv = client.create_model_version("fraud-runs", f"runs:/{run_id}/runmodel", run_id=run_id)
out["models"]["fraud-runs"] = {"v": str(rv.version)}

for name in ["evil-pickle", "evil-joblib"]:
    client.create_registered_model(name)
    mv = client.create_model_version(name, artifact_uri + "/" + name, run_id=run_id)
    out["models"][name] = {"v": str(mv.version)}

with open(sys.argv[1], "w") as f:
    json.dump(out, f)
