import pickle
import joblib
import mlflow
import mlflow.sklearn
import mlflow.pytorch


def cache_locally(obj):
    # a pickle that never reaches MLflow is MLG102's business when loaded, not MLG101's
    with open("cache.pkl", "wb") as fh:
        pickle.dump(obj, fh)


def log_metrics_file(model):
    joblib.dump(model, "cache/model.joblib")
    mlflow.log_artifact("reports/metrics.json")


def log_safe(model, torch_model):
    # MLflow 3.17 defaults: sklearn -> skops, pytorch -> pt2
    mlflow.sklearn.log_model(model, name="model")
    mlflow.sklearn.log_model(model, name="model", serialization_format="skops")
    mlflow.pytorch.log_model(torch_model, name="net")
    mlflow.pyfunc.log_model(name="code_model", python_model="model_code.py")
