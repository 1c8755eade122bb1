"""Benign model files made by the real libraries of the pinned venv, written
under argv[1]. The scan must give none of them MLG106, MLG107 or MLG111
(MLG108 only where MLflow runs shipped code by design: a PythonModel's
cloudpickle, a model from code). Prints one JSON line per artifact made or
skipped (with the reason), so the test can log what was covered."""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

out = sys.argv[1]
os.makedirs(out)


def note(kind, name, reason=""):
    print(json.dumps({"kind": kind, "name": name, "reason": reason}), flush=True)


def made(name):
    note("made", name)


def skipped(name, e):
    note("skipped", name, "%s: %s" % (type(e).__name__, str(e)[:200]))


import joblib
import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (GradientBoostingClassifier, HistGradientBoostingClassifier,
                              IsolationForest, RandomForestClassifier)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

X, y = make_classification(n_samples=80, n_features=6, random_state=0)
Xr, yr = make_regression(n_samples=40, n_features=3, random_state=0)
estimators = {
    "logreg": LogisticRegression().fit(X, y),
    "forest": RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y),
    "gbm": GradientBoostingClassifier(n_estimators=3).fit(X, y),
    "hgb": HistGradientBoostingClassifier(max_iter=3).fit(X, y),
    "svc": SVC(probability=True).fit(X, y),
    "knn": KNeighborsClassifier().fit(X, y),
    "tree": DecisionTreeClassifier().fit(X, y),
    "iforest": IsolationForest(n_estimators=3, random_state=0).fit(X),
    "linreg": LinearRegression().fit(Xr, yr),
    "pipe": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
    "tfidf": make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(["red apple", "green pear", "red cherry", "blue plum"], [0, 1, 0, 1]),
    "onehot": OneHotEncoder().fit([["a"], ["b"]]),
}

# MLflow sklearn flavor: default format, pickle, cloudpickle and skops.
import mlflow.sklearn

d = os.path.join(out, "mlflow-sklearn")
for name, m in estimators.items():
    for fmt in (None, "pickle", "cloudpickle", "skops"):
        path = os.path.join(d, "%s-%s" % (name, fmt or "default"))
        try:
            # Given requirements: inferring them starts a Python per model.
            kw = {"pip_requirements": ["scikit-learn"]}
            if fmt is not None:
                kw["serialization_format"] = fmt
            if fmt in (None, "skops"):  # skops is the default format
                import skops.io as sio
                kw["skops_trusted_types"] = sio.get_untrusted_types(data=sio.dumps(m))
            mlflow.sklearn.save_model(m, path, **kw)
            made(path)
        except Exception as e:
            skipped(path, e)

# joblib with every compressor it registers, and plain pickles.
import pickle

d = os.path.join(out, "joblib")
os.makedirs(d)
for name in ("logreg", "forest", "pipe", "hgb"):
    m = estimators[name]
    for comp in (0, 3, ("zlib", 3), ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3), ("lz4", 3)):
        tag = comp if isinstance(comp, int) else comp[0]
        path = os.path.join(d, "%s.%s.joblib" % (name, tag))
        try:
            joblib.dump(m, path, compress=comp)
            made(path)
        except Exception as e:
            skipped(path, e)
    for proto in range(0, pickle.HIGHEST_PROTOCOL + 1):
        path = os.path.join(d, "%s.p%d.pkl" % (name, proto))
        with open(path, "wb") as f:
            pickle.dump(m, f, protocol=proto)
        made(path)
joblib.dump({"a": np.arange(10), "obj": np.array(["x", 1], dtype=object)}, os.path.join(d, "dict.joblib"))
made(os.path.join(d, "dict.joblib"))

# skops
import skops.io as sio

d = os.path.join(out, "skops")
os.makedirs(d)
for name, m in estimators.items():
    path = os.path.join(d, name + ".skops")
    sio.dump(m, path)
    made(path)

# numpy
d = os.path.join(out, "numpy")
os.makedirs(d)
np.save(os.path.join(d, "f.npy"), np.arange(12.0).reshape(3, 4))
np.save(os.path.join(d, "i.npy"), np.arange(5, dtype=np.int16))
np.save(os.path.join(d, "s.npy"), np.array(["ab", "c"]))
np.save(os.path.join(d, "rec.npy"), np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8", (2,))]))
np.save(os.path.join(d, "big.npy"), np.zeros((300, 300)))
np.savez(os.path.join(d, "z.npz"), a=np.arange(3), b=np.ones((2, 2)))
np.savez_compressed(os.path.join(d, "zc.npz"), a=np.arange(1000), b=np.eye(4))
for f in sorted(os.listdir(d)):
    made(os.path.join(d, f))

# safetensors
from safetensors.numpy import save_file

d = os.path.join(out, "safetensors")
os.makedirs(d)
save_file({"w": np.zeros((2, 3), dtype=np.float32), "b": np.ones(3, dtype=np.float16)}, os.path.join(d, "m.safetensors"),
          metadata={"format": "np"})
save_file({}, os.path.join(d, "empty.safetensors"))
for f in sorted(os.listdir(d)):
    made(os.path.join(d, f))

# onnx, built with onnx.helper: plain ops, initializers, an If subgraph, an
# ai.onnx.ml operator, a model-local function, external data.
import onnx
from onnx import TensorProto, helper, numpy_helper

d = os.path.join(out, "onnx")
os.makedirs(d)
vi = helper.make_tensor_value_info
w = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "W")
g = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W"], ["h"]), helper.make_node("Relu", ["h"], ["y"])],
    "mlp", [vi("x", TensorProto.FLOAT, [1, 4])], [vi("y", TensorProto.FLOAT, [1, 4])], [w])
onnx.save(helper.make_model(g, producer_name="make_benign"), os.path.join(d, "mlp.onnx"))
then = helper.make_graph([helper.make_node("Identity", ["x"], ["t"])], "then", [], [vi("t", TensorProto.FLOAT, [1, 4])])
els = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [], [vi("e", TensorProto.FLOAT, [1, 4])])
g2 = helper.make_graph(
    [helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=els)],
    "cond", [vi("c", TensorProto.BOOL, []), vi("x", TensorProto.FLOAT, [1, 4])], [vi("y", TensorProto.FLOAT, [1, 4])])
onnx.save(helper.make_model(g2), os.path.join(d, "if.onnx"))
g3 = helper.make_graph([helper.make_node("Binarizer", ["x"], ["y"], domain="ai.onnx.ml", threshold=0.5)],
                       "ml", [vi("x", TensorProto.FLOAT, [1, 4])], [vi("y", TensorProto.FLOAT, [1, 4])])
onnx.save(helper.make_model(g3, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("ai.onnx.ml", 3)]),
          os.path.join(d, "ml.onnx"))
fn = helper.make_function("local.fns", "Double", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])],
                          [helper.make_opsetid("", 18)])
g4 = helper.make_graph([helper.make_node("Double", ["x"], ["y"], domain="local.fns")], "f",
                       [vi("x", TensorProto.FLOAT, [1])], [vi("y", TensorProto.FLOAT, [1])])
onnx.save(helper.make_model(g4, functions=[fn], opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("local.fns", 1)]),
          os.path.join(d, "function.onnx"))
big = numpy_helper.from_array(np.ones((64, 64), dtype=np.float32), "B")
g5 = helper.make_graph([helper.make_node("MatMul", ["x", "B"], ["y"])], "ext",
                       [vi("x", TensorProto.FLOAT, [1, 64])], [vi("y", TensorProto.FLOAT, [1, 64])], [big])
onnx.save(helper.make_model(g5), os.path.join(d, "ext.onnx"), save_as_external_data=True, location="ext.onnx.data",
          size_threshold=0)
for f in sorted(os.listdir(d)):
    made(os.path.join(d, f))

# MLflow flavors that need no heavy framework.
import mlflow.pyfunc

d = os.path.join(out, "mlflow-flavors")


class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


try:
    mlflow.pyfunc.save_model(os.path.join(d, "pyfunc-pythonmodel"), python_model=Echo(), pip_requirements=["mlflow"])
    made(os.path.join(d, "pyfunc-pythonmodel"))
except Exception as e:
    skipped("pyfunc-pythonmodel", e)
code = os.path.join(out, "model_code.py")
with open(code, "w") as f:
    f.write("import mlflow\nfrom mlflow.pyfunc import PythonModel\n\nclass M(PythonModel):\n"
            "    def predict(self, context, model_input, params=None):\n        return model_input\n\n"
            "mlflow.models.set_model(M())\n")
try:
    mlflow.pyfunc.save_model(os.path.join(d, "pyfunc-from-code"), python_model=code, pip_requirements=["mlflow"])
    made(os.path.join(d, "pyfunc-from-code"))
except Exception as e:
    skipped("pyfunc-from-code", e)
os.remove(code)
try:
    import mlflow.onnx

    mlflow.onnx.save_model(onnx.load(os.path.join(out, "onnx", "mlp.onnx")), os.path.join(d, "onnx"), pip_requirements=["onnx"])
    made(os.path.join(d, "onnx"))
except Exception as e:
    skipped("mlflow-onnx", e)

# Keras 3 without lambdas: .keras zip, legacy .h5, and the MLflow flavor.
try:
    import keras

    d = os.path.join(out, "keras")
    os.makedirs(d)
    seq = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                            keras.layers.Dropout(0.1), keras.layers.Dense(2, activation="softmax")])
    inp = keras.Input((6,))
    h = keras.layers.Dense(4, activation="tanh", kernel_regularizer=keras.regularizers.L2(0.01))(inp)
    h = keras.layers.BatchNormalization()(h)
    sub = keras.Sequential([keras.layers.Dense(3), keras.layers.Activation("gelu")])
    fun = keras.Model(inp, keras.layers.Concatenate()([sub(h), h]))
    fun.compile(optimizer="adam", loss="mse")
    for name, m in (("seq", seq), ("functional", fun)):
        m.save(os.path.join(d, name + ".keras"))
        m.save(os.path.join(d, name + ".h5"))
        m.save_weights(os.path.join(d, name + ".weights.h5"))
    for f in sorted(os.listdir(d)):
        made(os.path.join(d, f))
    try:
        import mlflow.keras

        mlflow.keras.save_model(seq, os.path.join(out, "mlflow-flavors", "keras"), pip_requirements=["keras"])
        made(os.path.join(out, "mlflow-flavors", "keras"))
    except Exception as e:
        skipped("mlflow-keras", e)
except Exception as e:
    skipped("keras", e)
