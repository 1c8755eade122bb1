import time
from mlflow import MlflowClient


def promote_model(model_name: str, version: str, target_stage: str, approver: str):
    client = MlflowClient()
    valid_stages = ["Staging", "Production", "Archived"]
    if target_stage not in valid_stages:
        raise ValueError(f"Invalid stage: {target_stage}")
    client.set_model_version_tag(model_name, version, "approved_by", approver)
    client.set_model_version_tag(model_name, version, "approval_time", str(int(time.time())))
    client.transition_model_version_stage(model_name, version, target_stage, archive_existing_versions=True)


def archive(name, version):
    MlflowClient().transition_model_version_stage(name, version, "Archived")


def canary(name, version):
    MlflowClient().set_registered_model_alias(name, "canary", version)


def gated(name, version):
    client = MlflowClient()
    require_second_approval(name, version)
    client.set_registered_model_alias(name, "champion", version)


def require_second_approval(name, version):
    pass
