import os
import mlflow as mf
from mlflow import log_param, set_tag
from mlflow.tracking import MlflowClient


def log_config(settings):
    params = {"lr": 0.01, "epochs": 10}
    params["db_password"] = settings.db_password
    mf.log_params(params)  # want: MLG201


def log_env_secret():
    log_param("openai", os.environ["OPENAI_API_KEY"])  # want: MLG201


def log_token_value():
    set_tag("notes", "ghp_0123456789abcdefghijABCDEFGHIJ012345")  # want: MLG201


def client_logging(run_id, token):
    client = MlflowClient()
    client.log_param(run_id, "auth_token", token)  # want: MLG201


def tracking_url():
    with mf.start_run(run_name="https://admin:hunter22@mlflow.internal/"):  # want: MLG201
        pass


mf.log_dict({"apiKey": os.getenv("SERVICE_KEY"), "layers": 3}, "config.json")  # want: MLG201


def dataset_with_credentials(df):
    ds = mf.data.from_pandas(df, source="https://etl:Pr0dPassw0rd@data.internal/train.csv")  # want: MLG201
    mf.log_input(ds)
