"""Model files made by the real libraries, through mlflow-guard serve.

argv: phase, directory, prefix.
  upload: through the gateway (MLFLOW_TRACKING_URI), log_model with
          registered_model_name for benign and malicious models, and direct
          artifact uploads of every file; records what was stored or refused.
  plant:  straight at the upstream (MLFLOW_TRACKING_URI is MLflow itself),
          into an existing run (argv 4): a malicious model and a benign one,
          neither seen by the gateway.
Prints one RESULT JSON line.
"""
import json
import os
import pickle
import shutil
import sys
import warnings

warnings.simplefilter("ignore")

import cloudpickle
import joblib
import mlflow
import numpy as np
import onnx
import safetensors.numpy
import skops.io
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from onnx import TensorProto, helper
from sklearn.linear_model import LogisticRegression

phase, work, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work, exist_ok=True)
MARKER = os.path.join(work, "PWNED")


class Evil:
    """Runs a shell command when unpickled: the CVE class of model files."""

    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))


class EvilEstimator(LogisticRegression):
    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))


def fitted():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]])
    y = np.array([0, 1, 0, 1])
    return LogisticRegression().fit(X, y)


def onnx_model():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    node = helper.make_node("Relu", ["x"], ["y"])
    return helper.make_model(helper.make_graph([node], "g", [x], [y]), opset_imports=[helper.make_opsetid("", 17)])


def make_files():
    files = {}

    def put(name, write, kind):
        p = os.path.join(work, "files", name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        write(p)
        files[name] = kind

    put("evil.pkl", lambda p: pickle.dump(Evil(), open(p, "wb")), "malicious")
    put("evil.joblib", lambda p: joblib.dump(Evil(), p), "malicious")
    put("evil_cloud.pkl", lambda p: open(p, "wb").write(cloudpickle.dumps(Evil())), "malicious")
    # An unverifiable pickle: cut off mid-stream (MLG111).
    put("cut.pkl", lambda p: open(p, "wb").write(pickle.dumps(np.arange(50000), protocol=4)[:-20]), "unverifiable")
    put("benign.joblib", lambda p: joblib.dump(fitted(), p), "benign")
    put("benign.skops", lambda p: skops.io.dump(fitted(), p), "benign")
    put("benign.onnx", lambda p: onnx.save(onnx_model(), p), "benign")
    put("benign.safetensors", lambda p: safetensors.numpy.save_file({"w": np.ones((4, 4), dtype=np.float32)}, p), "benign")
    put("notes.txt", lambda p: open(p, "w").write("max_tokens: 4096\ntokenizer: bert-base-uncased\n"), "benign")
    put("leak.txt", lambda p: open(p, "w").write("deploy with\ngithub_token = " + os.environ["DG_TOKEN"] + "\n"), "secret")
    put("tool.bin", lambda p: shutil.copyfile("/bin/true", p), "executable")
    return files


out = {"phase": phase}
client = MlflowClient()

if phase == "upload":
    files = make_files()
    out["kinds"] = files
    exp = mlflow.set_experiment(prefix + "-exp")
    out["experiment_id"] = exp.experiment_id
    with mlflow.start_run() as run:
        out["run_id"] = run.info.run_id
        up = {}
        for name in sorted(files):
            try:
                client.log_artifact(run.info.run_id, os.path.join(work, "files", name), artifact_path="up")
                up[name] = "stored"
            except Exception as e:  # the client raises MlflowException or requests' HTTPError
                up[name] = "error: " + str(e)[:400]
        out["uploads"] = up
        reg = {}
        for label, log in [
            ("sk-pickle", lambda n: mlflow.sklearn.log_model(fitted(), name="sk-pickle", registered_model_name=n, serialization_format="pickle")),
            ("sk-cloudpickle", lambda n: mlflow.sklearn.log_model(fitted(), name="sk-cloudpickle", registered_model_name=n, serialization_format="cloudpickle", pip_requirements=["scikit-learn"])),
            ("sk-skops", lambda n: mlflow.sklearn.log_model(fitted(), name="sk-skops", registered_model_name=n, serialization_format="skops", skops_trusted_types=[
                "numpy.dtype", "sklearn.linear_model._logistic.LogisticRegression"])),
            ("onnx", lambda n: mlflow.onnx.log_model(onnx_model(), name="onnx", registered_model_name=n)),
            ("evil-sklearn", lambda n: mlflow.sklearn.log_model(EvilEstimator(), name="evil-sklearn", registered_model_name=n, serialization_format="cloudpickle", pip_requirements=["scikit-learn"])),
        ]:
            try:
                info = log(prefix + "-" + label)
                reg[label] = {"status": "registered", "version": str(info.registered_model_version), "model_uri": info.model_uri}
            except Exception as e:
                reg[label] = {"status": "error: " + str(e)[:400]}
        out["log_model"] = reg
elif phase == "plant":
    run_id = sys.argv[4]
    make_files()
    d = os.path.join(work, "planted")
    os.makedirs(d, exist_ok=True)
    shutil.copyfile(os.path.join(work, "files", "evil.pkl"), os.path.join(d, "model.pkl"))
    client.log_artifacts(run_id, d, artifact_path="planted-evil")
    b = os.path.join(work, "planted-ok")
    os.makedirs(os.path.join(b, "sub"), exist_ok=True)
    shutil.copyfile(os.path.join(work, "files", "benign.skops"), os.path.join(b, "model.skops"))
    shutil.copyfile(os.path.join(work, "files", "benign.safetensors"), os.path.join(b, "sub", "w.safetensors"))
    client.log_artifacts(run_id, b, artifact_path="planted-ok")
    out["run_id"] = run_id
out["pwned"] = os.path.exists(MARKER)
print("RESULT " + json.dumps(out))
