from mlflow import MlflowClient


class Promoter:
    def __init__(self):
        self.client = MlflowClient()

    def promote(self, name, version):
        self.client.transition_model_version_stage(name, version, "Production", archive_existing_versions=True)  # want: MLG105

    def crown(self, name, version):
        self.client.set_registered_model_alias(name, "champion", version)  # want: MLG105


def approved_but_no_archive(name, version, approver):
    client = MlflowClient()
    client.set_model_version_tag(name, version, "approved_by", approver)
    client.transition_model_version_stage(name, version, stage="production")  # want: MLG105


def computed_stage(client: MlflowClient, name, version, stage):
    client.transition_model_version_stage(name, version, stage)  # want: MLG105


def prod_alias(name, version):
    MlflowClient().set_registered_model_alias(name=name, alias="prod-eu", version=version)  # want: MLG105
