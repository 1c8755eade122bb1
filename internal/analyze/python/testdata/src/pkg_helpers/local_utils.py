# Helpers of the package: get_version returns the registry's record of the
# version on every path (a lookup on the client it is given).
import mlflow


def get_version(client, model_name, version_or_stage):
    if str(version_or_stage).isdigit():
        return client.get_model_version(model_name, str(version_or_stage))
    else:
        return client.get_latest_versions(model_name, [version_or_stage])[0]


def get_uri(client, model_uri):
    # not a lookup: hands back what it was given
    if model_uri.startswith("models:/"):
        return client.get_model_version_download_uri("m", "1")
    return model_uri


def maybe_version(client, name, version):
    # can fall off the end (returns None): not a helper
    if version:
        return client.get_model_version(name, version)


def source_of(name, version):
    return mlflow.MlflowClient().get_model_version(name, version)
