# A model unpickling the artifacts packaged with it loads what the model
# itself is: no more trusted or untrusted than the model being loaded.
import os
import pickle

import mlflow
import torch


class Wrapped(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["encoder"], "rb") as f:
            self.encoder = pickle.load(f)

    def predict(self, context, model_input, params=None):
        extra = params["path"]
        with open(extra, "rb") as f:
            return pickle.load(f)  # want: MLG102


class Handler:
    def initialize(self, ctx):
        properties = ctx.system_properties
        model_dir = properties.get("model_dir")
        serialized_file = ctx.manifest["model"]["serializedFile"]
        model_pt_path = os.path.join(model_dir, serialized_file)
        self.model = torch.load(model_pt_path, map_location="cpu")

    def handle(self, data, context):
        return torch.load(data[0]["body"])  # want: MLG102
