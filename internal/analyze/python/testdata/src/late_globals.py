"""Functions see module globals assigned after their definition."""
import mlflow


def load():
    return mlflow.pyfunc.load_model(MODEL_URI)  # want: MLG104


def promote(name, version):
    registry.transition_model_version_stage(name, version, "Production", archive_existing_versions=True)  # want: MLG105


MODEL_URI = "models:/fraud/latest"
registry = mlflow.MlflowClient()
