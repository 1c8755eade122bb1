"""The real MLflow client through mlflow-guard serve with request policies.

argv: mode (deny or redact), experiment name, token. Credentials and the
tracking URI come from the environment. Prints one RESULT JSON line.
"""
import json
import sys
import warnings

warnings.simplefilter("ignore")

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

mode, exp_name, token = sys.argv[1], sys.argv[2], sys.argv[3]
client = MlflowClient()
out = {"mode": mode}
exp = mlflow.set_experiment(exp_name)
out["experiment_id"] = exp.experiment_id
benign = {"max_tokens": "4096", "tokenizer": "bert-base-uncased", "primary_key_col": "customer_id",
          "git_commit": "3f9c2b1e8d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e",
          "run_ref": "c0a8012e-7c1b-4f3a-9d2e-5b6a7c8d9e0f", "key_metric": "val_loss"}
with mlflow.start_run(run_name="policy-run") as run:
    out["run_id"] = run.info.run_id
    mlflow.log_params(benign)
    mlflow.set_tags({"team": "fraud", "mlflow.note.content": "line one\nline two"})
    mlflow.log_metric("val_loss", 0.25, step=1)
    mlflow.log_text("signed " + mode, "docs/signed.txt")
    try:
        mlflow.log_param("ci_setting", token)
        out["secret_param"] = "stored"
    except MlflowException as e:
        out["secret_param"] = "error: " + str(e)[:300]
    try:
        client.log_batch(run.info.run_id, tags=[mlflow.entities.RunTag("deploy_cred", token)])
        out["secret_tag"] = "stored"
    except MlflowException as e:
        out["secret_tag"] = "error: " + str(e)[:300]

r = client.get_run(out["run_id"])
out["params"] = r.data.params
out["tags"] = {k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")}
out["run_name"] = r.info.run_name
print("RESULT " + json.dumps(out))
