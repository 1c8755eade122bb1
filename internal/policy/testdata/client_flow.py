# The real MLflow client through a policy proxy. argv: deny-proxy URL,
# redact-proxy URL. Benign calls must pass; secrets must be refused (deny)
# or stored redacted (redact).
import sys

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

deny_url, redact_url = sys.argv[1], sys.argv[2]
gh = "ghp_" + "hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES"

mlflow.set_tracking_uri(deny_url)
exp = mlflow.set_experiment("policy-e2e")
with mlflow.start_run(run_name="benign-run") as run:
    mlflow.log_params({"max_tokens": 4096, "tokenizer": "bert-base-uncased", "primary_key_col": "customer_id",
                       "git_commit": "3f9c2b1e8d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e",
                       "run_ref": "c0a8012e-7c1b-4f3a-9d2e-5b6a7c8d9e0f"})
    mlflow.set_tags({"team": "fraud", "mlflow.note.content": "line one\nline two"})
    mlflow.log_metric("val_loss", 0.25, step=1)
    df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    mlflow.log_input(mlflow.data.from_pandas(df, source="s3://data/train.parquet", name="train"), context="training")
    X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1])
    info = mlflow.sklearn.log_model(LogisticRegression().fit(X, y), name="model")
    mv = mlflow.register_model(info.model_uri, "policy-e2e-model")
    client = MlflowClient()
    client.set_model_version_tag("policy-e2e-model", mv.version, "stage_note", "ok")
    client.set_registered_model_tag("policy-e2e-model", "owner", "fraud-team")
    try:
        mlflow.log_param("github", gh)
        print("FAIL secret param stored")
    except MlflowException as e:
        print("denied-param" if "MLG201" in str(e) else "FAIL wrong error " + str(e)[:200])
    try:
        client.create_experiment("evil", artifact_location="file:///etc/")
        print("FAIL file location stored")
    except MlflowException as e:
        print("denied-location" if "MLG205" in str(e) else "FAIL wrong error " + str(e)[:200])
    run_id = run.info.run_id

mlflow.set_tracking_uri(redact_url)
client = MlflowClient()
client.log_batch(run_id, params=[mlflow.entities.Param("gh_token_param", gh)],
                 tags=[mlflow.entities.RunTag("fine", "value")])
r = client.get_run(run_id)
print("redacted-value=" + r.data.params["gh_token_param"])
print("benign-kept=" + r.data.params["max_tokens"] + "," + r.data.params["git_commit"] + "," + r.data.tags["fine"])
print("version-source=" + client.get_model_version("policy-e2e-model", mv.version).source.split(":")[0])
print("ALL-DONE")
