"""Seeds a live MLflow server for the audit integration tests, with the real
MLflow client. Prints one JSON object describing what it created (ids the
test cannot know in advance) as JSON to the file named by argv[1].

Environment: MLFLOW_TRACKING_URI: a server URL or, to seed a backend store
directly, a database URI.
"""
import json
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
import logging

logging.disable(logging.WARNING)

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

out = {"experiments": {}, "runs": {}, "models": {}}
client = MlflowClient()

X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]])
y = np.array([0, 1, 0, 1])
clf = LogisticRegression().fit(X, y)

# A clean experiment: nothing here may be reported.
clean = client.create_experiment("clean")
out["experiments"]["clean"] = clean
mlflow.set_experiment(experiment_id=clean)
with mlflow.start_run(run_name="baseline") as r:
    mlflow.log_params({"learning_rate": "0.01", "key_metric": "auc", "max_tokens": "256", "monkey": "banana"})
    mlflow.set_tags({"team": "fraud", "token_budget": "1000"})
    mlflow.log_metric("auc", 0.9)
    out["runs"]["clean"] = r.info.run_id

# An experiment where secrets were logged as params, tags, run name and a
# dataset source.
leaky = client.create_experiment("leaky")
out["experiments"]["leaky"] = leaky
mlflow.set_experiment(experiment_id=leaky)
with mlflow.start_run(run_name="deploy-ghp_R4nd0mT0k3nV4lu3F0rT3st1ngAbCdEf0123") as r:
    mlflow.log_params({
        "api_key": "Zx9vQ2mL7pK4rT8wY3nB6cF1",
        "db_uri": "postgresql://trainer:Sup3rS3cretPw@db.internal:5432/features",
        "epochs": "10",
    })
    mlflow.set_tag("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY")
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    ds = mlflow.data.from_pandas(df, source="https://loader:Passw0rdInUrl99@data.example.com/train.csv", name="train")
    mlflow.log_input(ds, context="training")
    out["runs"]["leaky"] = r.info.run_id

# A deleted run keeps its values until mlflow gc: still reported, marked deleted.
with mlflow.start_run(run_name="discarded") as r:
    mlflow.log_param("api_key", "Zx9vQ2mL7pK4rT8wY3nB6cF1")
    out["runs"]["deleted"] = r.info.run_id
client.delete_run(out["runs"]["deleted"])

# Experiments whose artifact locations are unsafe.
for name, loc in [
    ("local-file-store", "file:///var/tmp/mlflow-artifacts"),
    ("traversal", "s3://ml-artifacts/team/%2e%2e/%2e%2e/other-team"),
    ("plain-http", "http://artifacts.example.com/mlflow"),
    ("public-bucket", "s3://public-ml-artifacts/mlflow"),
]:
    out["experiments"][name] = client.create_experiment(name, artifact_location=loc)

# Registered models.
mlflow.set_experiment(experiment_id=clean)
with mlflow.start_run(run_name="register") as r:
    # Explicit requirements skip MLflow's slow requirement inference.
    reqs = ["scikit-learn"]
    pickled = mlflow.sklearn.log_model(clf, name="pickled", serialization_format="cloudpickle", pip_requirements=reqs)
    skops = mlflow.sklearn.log_model(
        clf, name="skops", serialization_format="skops",
        skops_trusted_types=["sklearn.linear_model._logistic.LogisticRegression"],
        pip_requirements=reqs,
    )

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input

    custom = mlflow.pyfunc.log_model(name="custom", python_model=Echo(), pip_requirements=reqs)

    # A hand-made model directory whose pickle imports os.system: written
    # byte by byte, never loaded.
    d = tempfile.mkdtemp()
    md = os.path.join(d, "evil")
    os.makedirs(md)
    with open(os.path.join(md, "MLmodel"), "w") as f:
        f.write("flavors:\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n    sklearn_version: 1.5.0\n")
    with open(os.path.join(md, "model.pkl"), "wb") as f:
        f.write(b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93\x8c\x05id -a\x85R.")
    mlflow.log_artifacts(md, artifact_path="evil")
    evil_source = r.info.artifact_uri + "/evil"
    reg_run = r.info.run_id

mv = mlflow.register_model(pickled.model_uri, "fraud-pickle")
client.transition_model_version_stage("fraud-pickle", mv.version, "Production")
out["models"]["fraud-pickle"] = {"production": str(mv.version)}

v1 = mlflow.register_model(skops.model_uri, "fraud-skops")
v2 = mlflow.register_model(skops.model_uri, "fraud-skops")
v3 = mlflow.register_model(skops.model_uri, "fraud-skops")
v4 = mlflow.register_model(skops.model_uri, "fraud-skops")
client.set_registered_model_alias("fraud-skops", "champion", v1.version)
# v2 is approved by a second person: not reported.
client.set_registered_model_alias("fraud-skops", "prod-eu", v2.version)
for k, v in {"mlflow-guard.requested_by": "alice", "mlflow-guard.approved_by": "bob",
             "mlflow-guard.approved_at": "2026-11-01T10:00:00Z",
             "mlflow-guard.digest": "sha256:" + "ab" * 32}.items():
    client.set_model_version_tag("fraud-skops", v2.version, k, v)
# v3 was "approved" by its own requester: reported.
client.set_registered_model_alias("fraud-skops", "production", v3.version)
for k, v in {"mlflow-guard.requested_by": "carol", "mlflow-guard.approved_by": "carol",
             "mlflow-guard.approved_at": "2026-11-01T10:00:00Z"}.items():
    client.set_model_version_tag("fraud-skops", v3.version, k, v)
# A non-protected alias on an unapproved version: not reported.
client.set_registered_model_alias("fraud-skops", "challenger", v1.version)
# v4 is approved by a second person but no digest was recorded: MLG110.
client.set_registered_model_alias("fraud-skops", "prod-us", v4.version)
for k, v in {"mlflow-guard.requested_by": "alice", "mlflow-guard.approved_by": "bob",
             "mlflow-guard.approved_at": "2026-11-02T10:00:00Z"}.items():
    client.set_model_version_tag("fraud-skops", v4.version, k, v)
out["models"]["fraud-skops"] = {"champion": str(v1.version), "approved": str(v2.version), "self": str(v3.version), "nodigest": str(v4.version)}

cv = mlflow.register_model(custom.model_uri, "custom-pyfunc")
out["models"]["custom-pyfunc"] = {"version": str(cv.version)}

client.create_registered_model("evil")
ev = client.create_model_version("evil", evil_source, run_id=reg_run)
out["models"]["evil"] = {"version": str(ev.version)}

with open(sys.argv[1], "w") as f:
    json.dump(out, f)
