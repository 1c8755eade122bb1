"""Issue-13 benchmark: `mlflow-guard pull` of a 1 GB model version against
`mlflow artifacts download` of the same version, plus a separate
`picklescan` run over the download.

argv: MLFLOW_GUARD_BIN WORK_DIR RESULT_MD
Environment: MLFLOW_TRACKING_URI (a running server with --serve-artifacts),
SIZE_MB (default 1024), REPEAT (default 3).

The model is a sklearn-flavoured directory whose model.pkl is a real
pickle of a numpy array (what picklescan reads), logged and registered with
the real MLflow client. The approval is signed here with an Ed25519 key
(the `cryptography` package), in the gateway's record format, and written
as the mlflow-guard.* tags: the benchmark stands in for the gateway.
"""
import base64
import datetime as dt
import hashlib
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import logging

logging.disable(logging.WARNING)

import mlflow
import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from mlflow import MlflowClient

guard, work, result = sys.argv[1:4]
size_mb = int(os.environ.get("SIZE_MB", "1024"))
repeat = int(os.environ.get("REPEAT", "3"))
venv_bin = os.path.dirname(sys.executable)
client = MlflowClient()
name = "bench-pull"

# 1. The model, logged and registered with the real client.
src = os.path.join(work, "src", "model")
shutil.rmtree(os.path.dirname(src), ignore_errors=True)
os.makedirs(src)
with open(os.path.join(src, "MLmodel"), "w") as f:
    f.write("flavors:\n  sklearn:\n    pickled_model: model.pkl\n"
            "    serialization_format: pickle\n    sklearn_version: 1.5.0\n")
rng = np.random.default_rng(0)
with open(os.path.join(src, "model.pkl"), "wb") as f:
    pickle.dump({"coef": rng.random(size_mb * (1 << 20) // 8)}, f, protocol=4)
with open(os.path.join(src, "requirements.txt"), "w") as f:
    f.write("scikit-learn\n")
mlflow.set_experiment("bench-pull")
with mlflow.start_run() as run:
    mlflow.log_artifacts(src, artifact_path="model")
    uri = run.info.artifact_uri + "/model"
try:
    client.create_registered_model(name)
except Exception:
    pass
version = client.create_model_version(name, uri, run_id=run.info.run_id).version

# 2. The gateway's part: manifest, digest, signed record, tags.
sums = {}
for dirpath, _, files in os.walk(src):
    for fn in files:
        p = os.path.join(dirpath, fn)
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        sums[os.path.relpath(p, src).replace(os.sep, "/")] = h.hexdigest()
manifest = "# mlflow-guard digest v1 (sha256)\n" + "".join(f"{sums[k]}  {k}\n" for k in sorted(sums))
digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
key = Ed25519PrivateKey.generate()
pub = key.public_key()
raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
fp = "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
ts = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
record = {"v": 1, "model": name, "version": str(version), "digest": digest, "verdict": "pass",
          "target": "alias:champion", "requester": "alice", "approver": "bob",
          "requested_at": ts(now - dt.timedelta(hours=1)), "approved_at": ts(now - dt.timedelta(minutes=30)),
          "expires_at": ts(now + dt.timedelta(hours=1)), "promoted_at": ts(now - dt.timedelta(minutes=20)),
          "key_id": fp}
payload = json.dumps(record, separators=(",", ":")).encode()
b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
signed = b64(payload) + "." + b64(key.sign(payload))
for k, v in {"mlflow-guard.manifest": manifest, "mlflow-guard.digest": digest,
             "mlflow-guard.verdict": "pass", "mlflow-guard.approval": signed}.items():
    client.set_model_version_tag(name, version, k, v)
pem = os.path.join(work, "approval-key.pem")
with open(pem, "wb") as f:
    f.write(pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
total = sum(os.path.getsize(os.path.join(src, k)) for k in sums)


def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    el = time.perf_counter() - t0
    return el, p


model_uri = f"models:/{name}/{version}"
rows = {"download": [], "picklescan": [], "pull": [], "startup": []}
for i in range(repeat):
    d = os.path.join(work, "dl")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    el, p = timed([os.path.join(venv_bin, "mlflow"), "artifacts", "download", "--artifact-uri", model_uri, "--dst-path", d])
    if p.returncode != 0:
        sys.exit(f"mlflow artifacts download failed: {p.stderr[-2000:]}")
    rows["download"].append(el)
    el, p = timed([os.path.join(venv_bin, "picklescan"), "-p", d])
    # picklescan exits 0 (clean) or 1 (dangerous); the file here is clean.
    if p.returncode not in (0,):
        sys.exit(f"picklescan: exit {p.returncode}: {p.stdout[-2000:]} {p.stderr[-2000:]}")
    rows["picklescan"].append(el)
    out = os.path.join(work, "pulled")
    shutil.rmtree(out, ignore_errors=True)
    el, p = timed([guard, "pull", model_uri, "--to", out, "--public-key", pem])
    if p.returncode != 0:
        sys.exit(f"pull: exit {p.returncode}: {p.stderr[-3000:]}")
    rows["pull"].append(el)
    # What the Python CLI costs before it downloads anything (import mlflow).
    el, p = timed([os.path.join(venv_bin, "mlflow"), "artifacts", "download", "--help"])
    rows["startup"].append(el)
    print(f"round {i + 1}: download {rows['download'][-1]:.2f}s, picklescan {rows['picklescan'][-1]:.2f}s, pull {rows['pull'][-1]:.2f}s", file=sys.stderr)

med = {k: statistics.median(v) for k, v in rows.items()}
ratio = med["pull"] / med["download"]
both = med["download"] + med["picklescan"]
with open(result, "w") as f:
    f.write(f"""## `pull` of a 1 GB model (issue 13)

`bench/pull.sh`: one registered version of {total / (1 << 20):.0f} MiB (a real pickle of a numpy
array, `MLmodel`, `requirements.txt`), served by the pinned MLflow with `--serve-artifacts`
on loopback, each step run {repeat} times alternately; medians in seconds.

| step | median (s) | runs (s) |
|---|---:|---|
| `mlflow artifacts download -u {model_uri}` | {med['download']:.2f} | {', '.join(f'{x:.2f}' for x in rows['download'])} |
| `picklescan -p DIR` over that download | {med['picklescan']:.2f} | {', '.join(f'{x:.2f}' for x in rows['picklescan'])} |
| download + picklescan | {both:.2f} | |
| of which the `mlflow` CLI's own start (`mlflow artifacts download --help`) | {med['startup']:.2f} | {', '.join(f'{x:.2f}' for x in rows['startup'])} |
| `mlflow-guard pull {model_uri} --to DIR --public-key FILE` (resolve, verify the signed approval, list, download with SHA-256, model scan, seal, rename) | {med['pull']:.2f} | {', '.join(f'{x:.2f}' for x in rows['pull'])} |

`pull` / plain download: **{ratio:.2f}x** (target: at most 1.2x); `pull` / (download + picklescan): {med['pull'] / both:.2f}x;
`pull` / (plain download without the CLI's start): {med['pull'] / max(med['download'] - med['startup'], 1e-9):.2f}x.
`pull` streams each file once, hashing it on the way, then reads it again for the model scan
(from the page cache); the Python client writes the file and picklescan reads it again.
""")
print(f"pull/download = {ratio:.2f}x", file=sys.stderr)
