"""Drives the MLflow client through the gateway for the approvals tests.

argv[1] is a JSON list of [action, arg...]; the script prints one line
"RESULT <json>" with one {"ok": ..., ...} per action. A refused call is
{"ok": false, "code": <MLflow error_code>, "message": ...}.
"""
import json
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException

client = MlflowClient()


def setup(prefix):
    exp = mlflow.set_experiment(prefix + "-exp")
    with mlflow.start_run() as run:
        d = tempfile.mkdtemp()
        os.makedirs(os.path.join(d, "model"))
        for n, body in (("MLmodel", "flavors: {}\n"), ("weights.bin", "w1")):
            with open(os.path.join(d, "model", n), "w") as f:
                f.write(body)
        mlflow.log_artifacts(os.path.join(d, "model"), artifact_path="model")
        run_id = run.info.run_id
        art = run.info.artifact_uri
    name = prefix + "-model"
    client.create_registered_model(name)
    versions = []
    for _ in range(4):
        mv = client.create_model_version(name, source=art + "/model", run_id=run_id)
        versions.append(mv.version)
    lm = mlflow.create_external_model(name=prefix + "-lm")
    with mlflow.start_span(name="s") as span:
        span.set_inputs({"x": 1})
    trace_id = mlflow.get_last_active_trace_id()
    return {"experiment_id": exp.experiment_id, "run_id": run_id, "model": name, "versions": versions,
            "source": art + "/model", "logged_model_id": lm.model_id, "trace_id": trace_id}


def register_prompt(name):
    p = mlflow.genai.register_prompt(name=name, template="Hello {{name}}")
    return {"prompt": p.name, "prompt_version": str(p.version)}


def get_mv(name, version):
    mv = client.get_model_version(name, version)
    return {"stage": mv.current_stage, "aliases": list(mv.aliases), "tags": dict(mv.tags)}


ACTIONS = {
    "setup": setup,
    "register_prompt": register_prompt,
    "get_mv": get_mv,
    "set_alias": lambda n, a, v: client.set_registered_model_alias(n, a, v),
    "del_alias": lambda n, a: client.delete_registered_model_alias(n, a),
    "transition": lambda n, v, s: client.transition_model_version_stage(n, v, s, archive_existing_versions=False).current_stage,
    "set_mv_tag": lambda n, v, k, val: client.set_model_version_tag(n, v, k, val),
    "del_mv_tag": lambda n, v, k: client.delete_model_version_tag(n, v, k),
    "set_rm_tag": lambda n, k, val: client.set_registered_model_tag(n, k, val),
    "del_rm_tag": lambda n, k: client.delete_registered_model_tag(n, k),
    "set_run_tag": lambda r, k, val: client.set_tag(r, k, val),
    "del_run_tag": lambda r, k: client.delete_tag(r, k),
    "log_batch_tag": lambda r, k, val: client.log_batch(r, tags=[mlflow.entities.RunTag(k, val)]),
    "create_run_tag": lambda e, k, val: client.create_run(e, tags={k: val}).info.run_id,
    "set_exp_tag": lambda e, k, val: client.set_experiment_tag(e, k, val),
    "create_exp_tag": lambda n, k, val: client.create_experiment(n, tags={k: val}),
    "create_rm_tag": lambda n, k, val: client.create_registered_model(n, tags={k: val}).name,
    "create_mv_tag": lambda n, src, r, k, val: client.create_model_version(n, src, run_id=r, tags={k: val}).version,
    "set_trace_tag": lambda t, k, val: client.set_trace_tag(t, k, val),
    "del_trace_tag": lambda t, k: client.delete_trace_tag(t, k),
    "lm_tag": lambda m, k, val: mlflow.set_logged_model_tags(m, {k: val}),
    "lm_del_tag": lambda m, k: client.delete_logged_model_tag(m, k),
    "create_lm_tag": lambda e, n, k, val: mlflow.create_external_model(name=n, experiment_id=e, tags={k: val}).model_id,
    "prompt_alias": lambda n, a, v: mlflow.genai.set_prompt_alias(n, a, int(v)),
    "prompt_tag": lambda n, k, val: mlflow.genai.set_prompt_tag(n, k, val),
    "prompt_version_tag": lambda n, v, k, val: mlflow.genai.set_prompt_version_tag(n, v, k, val),
    "rename": lambda n, new: client.rename_registered_model(n, new).name,
    "delete_model": lambda n: client.delete_registered_model(n),
    "delete_version": lambda n, v: client.delete_model_version(n, v),
}

results = []
for step in json.loads(sys.argv[1]):
    try:
        v = ACTIONS[step[0]](*step[1:])
        results.append({"ok": True, "value": v})
    except (MlflowException, RestException) as e:
        results.append({"ok": False, "code": getattr(e, "error_code", ""), "message": str(e)[:600]})
print("RESULT " + json.dumps(results, default=str))
