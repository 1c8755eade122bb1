# A test suite: it unpickles what it pickled, logs a pyfunc to test logging
# and promotes a throwaway model. None of that is the product.
import pickle

import mlflow
from mlflow import MlflowClient


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input


def test_roundtrip(tmp_path, model_uri):
    mlflow.pyfunc.log_model("m", python_model=Echo())
    with open(tmp_path / "m.pkl", "rb") as f:
        model = pickle.load(f)
    client = MlflowClient()
    client.transition_model_version_stage("demo", 1, "Production")
    client.set_registered_model_alias("demo", "champion", 1)
    path = client.download_artifacts(model_uri, "model", str(tmp_path))
    return model, path


def test_credentials_still_reported():
    mlflow.log_param("api_token", "ghp_" + "Zq3Vb8Xn1Lw5Kd7Mf2Hs9Jt4Pg6Rc0Ya1Ee")  # want: MLG201
