import mlflow
from mlflow.tracking import MlflowClient


def pinned(name):
    a = mlflow.pyfunc.load_model("models:/fraud@champion")
    b = mlflow.pyfunc.load_model("models:/fraud/3")
    c = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    return a, b, c


def checked(name):
    client = MlflowClient()
    versions = client.get_latest_versions(name)
    if versions[0].current_stage != "Production":
        raise ValueError("not approved")
    return versions[0]


def latest_in_production(name):
    client = MlflowClient()
    return client.get_latest_versions(name, stages=["Production"])


def note():
    # mentioning the word in prose is fine
    return "use models:/name@alias, not the latest version"


def show_latest(name):
    client = MlflowClient()
    client.get_latest_versions(name)  # shown in a notebook cell, nothing loaded


def version_for(name, version_or_stage):
    # the stage part of a models:/name/<stage> URI the caller names:
    # resolved the way MLflow resolves models:/name/<stage>
    client = MlflowClient()
    if version_or_stage.isdigit():
        return client.get_model_version(name, version_or_stage)
    return client.get_latest_versions(name, [version_or_stage])[0]


if __name__ == "__main__":
    import sys

    print(version_for(sys.argv[1], sys.argv[2]).source)
