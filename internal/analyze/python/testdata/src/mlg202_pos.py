import os
import json
import mlflow
from dataclasses import dataclass


@dataclass
class Settings:
    db_url: str
    api_token: str


def dump_env():
    mlflow.log_params(os.environ)  # want: MLG202


def dump_env_copy():
    mlflow.log_params(dict(os.environ))  # want: MLG202


def dump_env_text():
    mlflow.log_text(json.dumps(dict(os.environ)), "env.json")  # want: MLG202


def dump_settings(settings: Settings):
    mlflow.log_params(vars(settings))  # want: MLG202


def dump_dunder(cfg):
    mlflow.log_dict(cfg.__dict__, "cfg.json")  # want: MLG202


def dump_pydantic(cfg):
    mlflow.set_tags({**cfg.model_dump()})  # want: MLG202


def dump_to_dict(cfg):
    mlflow.log_dict(cfg.to_dict(), "cfg.json")  # want: MLG202
