"""The real MLflow client through mlflow-guard serve: a whole workflow.

Credentials come from the environment exactly as MLflow reads them
(MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN). Prints one
JSON object with what the test checks.
"""
import json
import os
import sys
import tempfile
import warnings

warnings.simplefilter("ignore")

import mlflow
from mlflow import MlflowClient
import numpy as np
from sklearn.linear_model import LogisticRegression

prefix = sys.argv[1]
client = MlflowClient()
exp_name = prefix + "-exp"
model_name = prefix + "-model"

exp = mlflow.set_experiment(exp_name)
out = {"experiment_id": exp.experiment_id}
with mlflow.start_run() as run:
    mlflow.log_param("alpha", "0.5")
    mlflow.log_metric("loss", 0.25, step=1)
    mlflow.log_metrics({"acc": 0.9, "f1": 0.8})
    mlflow.set_tag("stage", "test")
    d = tempfile.mkdtemp()
    p = os.path.join(d, "notes.txt")
    with open(p, "w") as f:
        f.write("hello " + prefix)
    mlflow.log_artifact(p, artifact_path="docs")
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    m = LogisticRegression().fit(X, y)
    info = mlflow.sklearn.log_model(m, name="model", registered_model_name=model_name)
    out["run_id"] = run.info.run_id

r = client.get_run(out["run_id"])
out["params"] = r.data.params
out["metrics"] = r.data.metrics
out["user_tag"] = r.data.tags.get("mlflow.user")
out["user_id"] = r.info.user_id
dl = mlflow.artifacts.download_artifacts(run_id=out["run_id"], artifact_path="docs/notes.txt")
out["artifact"] = open(dl).read()
out["artifacts"] = sorted(a.path for a in client.list_artifacts(out["run_id"]))
client.set_registered_model_alias(model_name, "champion", "1")
mv = client.get_model_version_by_alias(model_name, "champion")
out["alias_version"] = mv.version
loaded = mlflow.sklearn.load_model(f"models:/{model_name}@champion")
out["prediction"] = [int(v) for v in loaded.predict(np.array([[0.0], [3.0]]))]
out["experiments"] = sorted(e.name for e in mlflow.search_experiments())
out["models"] = sorted(m.name for m in client.search_registered_models())
out["runs"] = len(mlflow.search_runs(experiment_ids=[exp.experiment_id]))


@mlflow.trace
def add_one(x):
    return x + 1


add_one(1)
flush = getattr(mlflow, "flush_trace_async_logging", None)
if flush:
    flush()
tid = mlflow.get_last_active_trace_id()
out["trace_id"] = tid
out["trace_spans"] = len(mlflow.get_trace(tid).data.spans)
out["traces"] = len(mlflow.search_traces(locations=[exp.experiment_id], return_type="list"))
print("RESULT " + json.dumps(out))
