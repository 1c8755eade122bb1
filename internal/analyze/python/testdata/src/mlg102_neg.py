import io
import pickle
import os
import joblib
import torch
import numpy as np

BASE = os.path.dirname(__file__)


def load_shipped():
    # literal paths of files shipped with the code are not reported
    with open("fixtures/model.pkl", "rb") as fh:
        a = pickle.load(fh)
    b = joblib.load(os.path.join(BASE, "model.joblib"))
    return a, b


def load_weights(path):
    kw = {"weights_only": True}
    w1 = torch.load(path, weights_only=True)
    w2 = torch.load(path, map_location="cpu", **kw)
    return w1, w2


def load_arrays(path):
    return np.load(path), np.load(path, allow_pickle=False)


def round_trip(obj):
    buf = io.BytesIO()
    pickle.dump(obj, buf)
    buf.seek(0)
    return pickle.load(buf), pickle.loads(pickle.dumps(obj))
