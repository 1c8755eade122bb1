"""The real MLflow client through mlflow-guard serve, for per-resource authorization.

  authz_resources.py setup     (as an admin) two experiments, each with a run
                               (params, metrics), a logged model and a trace;
                               two registered models with versions from the
                               first experiment's run. Prints RESULT {ids}.
  authz_resources.py read IDS  (as the caller) reads each logged model and
                               trace named in the JSON IDS through the client
                               and prints RESULT {id: "ok" | error code}.
"""
import json
import sys
import warnings

warnings.simplefilter("ignore")

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException


def setup():
    client = MlflowClient()
    out = {}
    for key in ("granted", "other"):
        exp = mlflow.set_experiment("authz-" + key)
        with mlflow.start_run() as run:
            mlflow.log_param("alpha", key)
            # the registration gate scans a version's files, so the run
            # must hold some under "model" for the versions below
            mlflow.log_text("benign notes", "model/notes.txt")
            for step in range(3):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        lm = mlflow.initialize_logged_model(name="lm-" + key, experiment_id=exp.experiment_id)

        @mlflow.trace(name="span-" + key)
        def work(x):
            return x + 1

        work(1)
        flush = getattr(mlflow, "flush_trace_async_logging", None)
        if flush:
            flush()
        out[key] = {
            "experiment_id": exp.experiment_id,
            "run_id": run.info.run_id,
            "logged_model_id": lm.model_id,
            "trace_id": mlflow.get_last_active_trace_id(),
        }
    # Two registered models whose versions come from the granted run: the
    # caller may read only one of them.
    for name in ("authz-model-readable", "authz-model-hidden"):
        client.create_registered_model(name)
        client.create_model_version(name, "runs:/%s/model" % out["granted"]["run_id"], run_id=out["granted"]["run_id"])
    print("RESULT " + json.dumps(out))


def read(ids):
    out = {}
    for kind, ident in ids:
        try:
            if kind == "logged_model":
                m = mlflow.get_logged_model(ident)
                out[ident] = "ok" if m.model_id == ident else "wrong"
            else:
                t = MlflowClient().get_trace(ident)
                out[ident] = "ok" if t is not None and t.info.trace_id == ident else "missing"
        except RestException as e:
            out[ident] = e.error_code
        except MlflowException as e:
            out[ident] = "mlflow:" + str(e.error_code)
    print("RESULT " + json.dumps(out))


if sys.argv[1] == "setup":
    setup()
else:
    read(json.loads(sys.argv[2]))
