import os
import mlflow
import pandas
import pandas as pd

SAFE_KEYS = ("AWS_REGION", "MODEL_FAMILY")


def selected():
    mlflow.log_params({k: os.environ.get(k, "") for k in SAFE_KEYS})


def explicit(cfg):
    mlflow.log_params({"batch_size": cfg.batch_size, "lr": cfg.lr})


def describe_data(path):
    # DataFrame.to_dict() is the table's contents, not an object's attributes
    df = pandas.read_csv(path)
    mlflow.log_dict(df.describe().to_dict(), "describe_data.json")
    mlflow.log_dict(pd.DataFrame({"a": [1]}).to_dict(), "frame.json")
