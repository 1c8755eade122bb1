"""Seeds a live MLflow server with registered models whose names stress the
search filter grammar, with the real MLflow client. argv[1] is a JSON file
naming the models: {"evil": [names], "clean": [names], "loader": name,
"loader_module": value}; argv[2] receives {name: version} as JSON.

"evil" models get one version in stage Production with no approval record
(MLG105), an MLmodel whose sklearn flavor is pickled (MLG101) and a pickle
that imports os.system (MLG106 with --deep). "clean" models are decoys
whose names a wildcard or a sloppy filter would confuse with an evil one:
their version is approved by a second person with a digest and has no
pickle, so nothing of theirs may be reported except MLG108 below.
"""
import json
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
import logging

logging.disable(logging.WARNING)

import mlflow
from mlflow import MlflowClient

spec = json.load(open(sys.argv[1], encoding="utf-8"))
client = MlflowClient()
exp = client.create_experiment("names")
out = {}

d = tempfile.mkdtemp()


def model_dir(name, mlmodel, pickle=None):
    md = os.path.join(d, name)
    os.makedirs(md)
    with open(os.path.join(md, "MLmodel"), "w") as f:
        f.write(mlmodel)
    if pickle is not None:
        with open(os.path.join(md, "model.pkl"), "wb") as f:
            f.write(pickle)
    return md


evil_dir = model_dir(
    "evil",
    "flavors:\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: pickle\n    sklearn_version: 1.5.0\n",
    b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93\x8c\x05id -a\x85R.",
)
clean_dir = model_dir("clean", "flavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.17.0\n")
loader_dir = model_dir(
    "loader",
    "flavors:\n  python_function:\n    loader_module: %s\n    data: data\n" % spec["loader_module"],
)

with mlflow.start_run(experiment_id=exp) as r:
    for sub, md in (("evil", evil_dir), ("clean", clean_dir), ("loader", loader_dir)):
        mlflow.log_artifacts(md, artifact_path=sub)
    base = r.info.artifact_uri
    run_id = r.info.run_id


def register(name, sub):
    client.create_registered_model(name)
    return client.create_model_version(name, base + "/" + sub, run_id=run_id).version


for name in spec["evil"]:
    v = register(name, "evil")
    client.transition_model_version_stage(name, v, "Production")
    out[name] = str(v)

for name in spec["clean"]:
    v = register(name, "clean")
    client.transition_model_version_stage(name, v, "Production")
    for k, val in {"mlflow-guard.requested_by": "alice", "mlflow-guard.approved_by": "bob",
                   "mlflow-guard.approved_at": "2026-11-01T10:00:00Z",
                   "mlflow-guard.digest": "sha256:" + "ab" * 32}.items():
        client.set_model_version_tag(name, v, k, val)
    out[name] = str(v)

out[spec["loader"]] = str(register(spec["loader"], "loader"))

with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False)
