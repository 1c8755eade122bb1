import os
import mlflow

SAFE_KEYS = ("AWS_REGION", "MODEL_FAMILY")


def selected():
    mlflow.log_params({k: os.environ.get(k, "") for k in SAFE_KEYS})


def explicit(cfg):
    mlflow.log_params({"batch_size": cfg.batch_size, "lr": cfg.lr})
