import pickle
import sys
from pickle import loads as pickle_loads
import joblib as jl
import torch
import numpy as np
import pandas as pd
import dill
from mlflow import MlflowClient
from flask import Flask, request

app = Flask(__name__)
client = MlflowClient()


def load_downloaded(run_id):
    local = client.download_artifacts(run_id, "model/model.pkl")
    with open(local, "rb") as fh:
        return pickle.load(fh)  # want: MLG102


def load_param(path):
    return jl.load(path)  # want: MLG102


def load_torch(path):
    kw = {"map_location": "cpu"}
    return torch.load(path, **kw)  # want: MLG102


def load_torch_false(path):
    return torch.load(path, weights_only=False)  # want: MLG102


@app.post("/predict")
def predict():
    data = request.get_data()
    return pickle_loads(data)  # want: MLG102


def load_np(path):
    return np.load(path, None, True)  # want: MLG102


def load_np_kw(path):
    return np.load(path, allow_pickle=True)  # want: MLG102


def from_argv():
    frame = pd.read_pickle(sys.argv[1])  # want: MLG102
    return dill.loads(frame)  # want: MLG102


def unpickler(stream):
    return pickle.Unpickler(stream).load()  # want: MLG102
