"""Produce model files with the real libraries (pinned in
scripts/requirements-test.txt) into the directory given as argv[1]:
benign/ must scan clean of MLG106/MLG107, evil/ holds known payloads."""
import bz2, gzip, lzma, os, pickle, sys

import cloudpickle
import joblib
import numpy as np
import onnx
import skops.io as sio
from onnx import TensorProto, helper
from safetensors.numpy import save_file
from sklearn.datasets import make_classification
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

out = sys.argv[1]
b, e = os.path.join(out, "benign"), os.path.join(out, "evil")
os.makedirs(b)
os.makedirs(e)
X, y = make_classification(n_samples=60, n_features=5, random_state=0)
models = {
    "logreg": LogisticRegression().fit(X, y),
    "forest": RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y),
    "gbm": GradientBoostingClassifier(n_estimators=3).fit(X, y),
    "pipe": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
}
for name, m in models.items():
    for proto in (2, 4, 5):
        with open(os.path.join(b, f"{name}.p{proto}"), "wb") as f:
            pickle.dump(m, f, protocol=proto)
    joblib.dump(m, os.path.join(b, f"{name}.joblib"))
    joblib.dump(m, os.path.join(b, f"{name}.joblib.gz"), compress=("gzip", 3))
    joblib.dump(m, os.path.join(b, f"{name}.joblib.xz"), compress=("xz", 3))
    joblib.dump(m, os.path.join(b, f"{name}.joblib.z"), compress=3)
    joblib.dump(m, os.path.join(b, f"{name}.joblib.lzma"), compress=("lzma", 3))
    sio.dump(m, os.path.join(b, f"{name}.skops"))
np.save(os.path.join(b, "arr.npy"), np.arange(10.0))
np.savez(os.path.join(b, "arrs.npz"), a=np.arange(3), b=np.ones((2, 2)))
save_file({"w": np.zeros((2, 3), dtype=np.float32)}, os.path.join(b, "w.safetensors"))
joblib.dump({"mixed": np.array([1, "x"], dtype=object), "f": np.arange(5.0)}, os.path.join(b, "objarr.joblib"))
node = helper.make_node("Relu", ["x"], ["y"])
graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
onnx.save(helper.make_model(graph), os.path.join(b, "relu.onnx"))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


for proto in range(6):
    with open(os.path.join(e, f"os_system.p{proto}"), "wb") as f:
        pickle.dump(Evil(), f, protocol=proto)
with gzip.open(os.path.join(e, "evil.pkl.gz"), "wb") as f:
    pickle.dump(Evil(), f)
with bz2.open(os.path.join(e, "evil.pkl.bz2"), "wb") as f:
    pickle.dump(Evil(), f)
with lzma.open(os.path.join(e, "evil.pkl.xz"), "wb") as f:
    pickle.dump(Evil(), f)
joblib.dump({"m": models["logreg"], "x": Evil()}, os.path.join(e, "evil.joblib"))
joblib.dump({"a": np.arange(4.0), "x": Evil()}, os.path.join(e, "after_array.joblib"))
joblib.dump({"a": np.arange(4.0), "x": Evil()}, os.path.join(e, "evil.joblib.z"), compress=3)
joblib.dump({"a": np.arange(4.0), "x": Evil()}, os.path.join(e, "evil.joblib.lzma"), compress=("lzma", 3))
np.save(os.path.join(e, "objarr.npy"), np.array([Evil()], dtype=object), allow_pickle=True)
with open(os.path.join(e, "lambda.cloudpickle"), "wb") as f:
    cloudpickle.dump(lambda v: v + 1, f)
cnode = helper.make_node("Evil", ["x"], ["y"], domain="com.attacker")
cgraph = helper.make_graph([cnode], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                           [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
onnx.save(helper.make_model(cgraph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.attacker", 1)]),
          os.path.join(e, "custom.onnx"))

# A real MLflow model directory (MLmodel + cloudpickled sklearn model).
import mlflow.sklearn  # noqa: E402

mlflow.sklearn.save_model(models["logreg"], os.path.join(out, "mlflow", "logreg"), serialization_format="cloudpickle")
