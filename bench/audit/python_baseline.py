"""The baseline: a plain script with the MLflow client doing the same secret
search as `mlflow-guard audit` (search_runs over every experiment, a regex
over param keys and values). Prints: runs hits seconds.

usage: python_baseline.py TRACKING_URI
"""
import logging
import re
import sys
import time
import warnings

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

from mlflow import MlflowClient
from mlflow.entities import ViewType

SECRET = re.compile(
    r"(?i)(^|[_\-.])(password|passwd|secret|token|api_?key|credential|private_?key)($|[_\-.])"
    r"|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{36}|eyJ[\w-]+\.[\w-]+\.[\w-]+|://[^/\s:@]+:[^@\s/]+@"
)

start = time.monotonic()
client = MlflowClient(tracking_uri=sys.argv[1])
exps = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
runs = hits = 0
for exp in exps:
    token = None
    while True:
        page = client.search_runs([exp], run_view_type=ViewType.ALL, max_results=1000, page_token=token)
        for r in page:
            runs += 1
            for k, v in r.data.params.items():
                if SECRET.search(k) or SECRET.search(v):
                    hits += 1
        token = page.token
        if not token:
            break
print(runs, hits, f"{time.monotonic() - start:.2f}")
