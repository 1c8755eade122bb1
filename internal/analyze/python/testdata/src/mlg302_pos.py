import runpy
import subprocess
import importlib.util
import os
import mlflow
from mlflow.tracking import MlflowClient


def run_script(run_id):
    client = MlflowClient()
    local = client.download_artifacts(run_id, "scripts")
    script = os.path.join(local, "prepare.py")
    runpy.run_path(script)  # want: MLG302
    subprocess.run(["python", script], check=True)  # want: MLG302


def eval_text(uri):
    code = mlflow.artifacts.load_text(uri)
    eval(compile(code, "artifact", "exec"))  # want: MLG302


def import_plugin(run_id):
    path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="plugin.py")
    spec = importlib.util.spec_from_file_location("plugin", path)  # want: MLG302
    return spec


def shell(run_id):
    p = MlflowClient().download_artifacts(run_id, "setup.sh")
    os.system("bash " + p)  # want: MLG302
