import json
import subprocess
from pathlib import Path
from mlflow.tracking import MlflowClient


def read_metadata(run_id):
    local = MlflowClient().download_artifacts(run_id, "meta.json")
    with open(local) as fh:
        meta = json.load(fh)
    subprocess.run(["ls", "-l", "/tmp"], check=True)
    exec("print('static code')")
    return meta, Path(local).stat().st_size
