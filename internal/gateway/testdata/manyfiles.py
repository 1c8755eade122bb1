"""Logs a skops model with N small extra files through the gateway with the
real MLflow client and registers it from its runs:/ source, so the
registration gate records a manifest of N+ files.

argv: model name, N. Prints "RESULT <json>" with the version or the error.
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
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

name, n = sys.argv[1], int(sys.argv[2])
client = MlflowClient()
X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]])
y = np.array([0, 1, 0, 1])
d = os.path.join(tempfile.mkdtemp(), "model")
mlflow.sklearn.save_model(LogisticRegression().fit(X, y), d, serialization_format="skops",
                          skops_trusted_types=["sklearn.linear_model._logistic.LogisticRegression"],
                          pip_requirements=["scikit-learn"])
for i in range(n):
    sub = os.path.join(d, "vocab", "shard-%02d" % (i % 50))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "entry-%05d.txt" % i), "w") as f:
        f.write("token %d\n" % i)
out = {}
mlflow.set_experiment("manyfiles")
with mlflow.start_run() as run:
    mlflow.log_artifacts(d, artifact_path="model")
    rid = run.info.run_id
client.create_registered_model(name)
try:
    mv = client.create_model_version(name, "runs:/%s/model" % rid, rid)
    out["version"] = str(mv.version)
except Exception as e:  # MlflowException from the gate's refusal
    out["error"] = str(e)[:600]
print("RESULT " + json.dumps(out))
