import os
import mlflow

SENSITIVE = ["password", "secret", "token"]


def hyperparams():
    mlflow.log_params({"key_metric": "auc", "max_tokens": 512, "tokenizer": "bpe", "monkey": "see"})
    mlflow.log_param("token_budget_pct", 0.5)
    mlflow.set_tag("api_key", "[REDACTED]")
    mlflow.log_param("num_tokens", 128)
    mlflow.log_param("password_policy_enabled", True)


def redacted(params):
    clean = {}
    for k, v in params.items():
        if any(s in k.lower() for s in SENSITIVE):
            clean[k] = "[REDACTED]"
        else:
            clean[k] = str(v)[:250]
    mlflow.log_params(clean)


def env_non_secret():
    mlflow.log_param("region", os.environ["AWS_REGION"])


def dataset_without_credentials(df):
    ds = mlflow.data.from_pandas(df, source="s3://ml-data/train.csv")
    mlflow.log_input(ds)
