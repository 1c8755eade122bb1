# Parameters filled by pytest, MLflow or TorchServe are not untrusted input;
# @mock.patch is not a web route. Real entry points still are.
from unittest import mock

import mlflow
import pytest
from fastapi import FastAPI

app = FastAPI()


@pytest.fixture
def loaded(model_uri):
    return mlflow.pyfunc.load_model(model_uri)


@pytest.mark.parametrize("model_uri", ["runs:/abc/model", "models:/m/1"])
def test_load(model_uri):
    return mlflow.pyfunc.load_model(model_uri)


@mock.patch("mlflow.pyfunc.load_model")
def check_patched(model_uri):
    return mlflow.pyfunc.load_model(model_uri)


class Wrapper(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.inner = mlflow.pyfunc.load_model(context.artifacts["inner_model"])

    def predict(self, context, model_input):
        return self.inner.predict(model_input)


class Handler:
    def initialize(self, ctx):
        model_dir = ctx.system_properties.get("model_dir")
        self.model = mlflow.pyfunc.load_model(model_dir + "/model")


@app.patch("/models/{model_uri}")
def reload(model_uri: str):
    return mlflow.pyfunc.load_model(model_uri)  # want: MLG103


def serve(model_uri):
    return mlflow.pyfunc.load_model(model_uri)  # want: MLG103



if __name__ == "__main__":
    import sys
    serve(sys.argv[1])
