import mlflow
from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings


class MaskedSettings(BaseSettings):
    tracking_uri: str
    api_key: SecretStr
    db_password: SecretStr | None = None


class PlainSettings(BaseSettings):
    tracking_uri: str
    api_key: str


class TrainConfig(BaseModel):
    lr: float
    batch_size: int


class ChildOfPlain(PlainSettings):
    region: str


def masked():
    # SecretStr fields dump as "**********": not a dump of secrets
    mlflow.log_params(MaskedSettings().model_dump())


def no_secret_fields(cfg: TrainConfig):
    mlflow.log_params(cfg.model_dump())


def plain():
    mlflow.log_params(PlainSettings().model_dump())  # want: MLG202


def plain_param(s: PlainSettings):
    mlflow.log_dict(s.dict(), "settings.json")  # want: MLG202


def inherited():
    mlflow.log_params(ChildOfPlain().model_dump())  # want: MLG202
