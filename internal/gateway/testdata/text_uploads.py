"""Uploads every file of a directory as a run artifact through the gateway
with the real MLflow client (log_artifact: the artifact proxy's PUT).

argv: directory, experiment name. Prints one RESULT JSON line:
{"run_id": ..., "uploads": {name: "stored" | "error: ..."}}.
"""
import json
import os
import sys

import mlflow
from mlflow import MlflowClient

work, exp_name = sys.argv[1], sys.argv[2]
client = MlflowClient()
mlflow.set_experiment(exp_name)
out = {"uploads": {}}
with mlflow.start_run() as run:
    out["run_id"] = run.info.run_id
    for name in sorted(os.listdir(work)):
        try:
            client.log_artifact(run.info.run_id, os.path.join(work, name), artifact_path="text")
            out["uploads"][name] = "stored"
        except Exception as e:  # MlflowException or requests' HTTPError
            out["uploads"][name] = "error: " + str(e)[:400]
print("RESULT " + json.dumps(out))
