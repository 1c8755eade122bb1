# Copying a version to another registry keeps the stage and aliases the
# source already has: a replication, not a promotion. A stage chosen here
# still needs an approval.
from mlflow import MlflowClient


def copy_version(src_client: MlflowClient, dst_client: MlflowClient, src_version, dst_version, src_vr: dict):
    if src_version.current_stage != "None":
        dst_client.transition_model_version_stage(dst_version.name, dst_version.version, src_version.current_stage)
    for alias in src_version.aliases:
        dst_client.set_registered_model_alias(dst_version.name, alias, dst_version.version)
    for alias in src_vr.get("aliases", []):
        dst_client.set_registered_model_alias(dst_version.name, alias, dst_version.version)
    stage = src_vr["current_stage"]
    dst_client.transition_model_version_stage(dst_version.name, dst_version.version, stage)


def promote(dst_client: MlflowClient, name, version, stage):
    dst_client.transition_model_version_stage(name, version, stage)  # want: MLG105
