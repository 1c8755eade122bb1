"""Seeds an MLflow SQLite backend store with many runs, fast: MLflow's own
client creates the schema, the experiments and one template run; the bulk
rows are copied from the template with sqlite3 (the benchmark is about
reading, not about MLflow's write path).

usage: seed_bulk.py DB_PATH RUNS PARAMS_PER_RUN EXPERIMENTS
"""
import logging
import sqlite3
import sys
import uuid
import warnings

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

from mlflow import MlflowClient

db, runs, nparams, nexp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
# "mixed" (default): params look like a real store's: numbers, model and
# optimizer names, data and checkpoint paths, dict reprs; about 3 in 4 values
# are 8 bytes or longer, which the database audit must read. "short": every
# value is a short number (the audit can leave most of them unread).
values = sys.argv[5] if len(sys.argv) > 5 else "mixed"
CATS = ["RandomForestClassifier", "GradientBoostingRegressor", "bert-base-uncased", "adam_optimizer",
        "cross_entropy_loss", "distilroberta-base"]
MIXED = [
    lambda i, j: f"{(i * 31 + j) % 9973}.{j}",
    lambda i, j: CATS[i % len(CATS)],
    lambda i, j: f"s3://ml-data/team-{i % 7}/datasets/run-{i}/train.parquet",
    lambda i, j: f"{(i * 0.0001):.6f}",
    lambda i, j: CATS[(i // 3 + j) % len(CATS)],
    lambda i, j: f"{{'max_depth': {i % 13}, 'n_estimators': {100 + i % 50}}}",
    lambda i, j: "True" if i % 2 else "False",
    lambda i, j: f"/mnt/checkpoints/exp{i % 10}/epoch_{i % 100:03d}.ckpt",
]


def param_value(i, j):
    if values == "short":
        return f"{(i * 31 + j) % 9973}.{j}"
    return MIXED[j % len(MIXED)](i, j)

client = MlflowClient(tracking_uri="sqlite:///" + db)
exp_ids = [client.create_experiment(f"bench-{i}") for i in range(nexp)]
tmpl = client.create_run(exp_ids[0], run_name="template")
client.log_param(tmpl.info.run_id, "p0", "x")

con = sqlite3.connect(db)
cols = [r[1] for r in con.execute("PRAGMA table_info(runs)")]
row = dict(zip(cols, con.execute("SELECT * FROM runs WHERE run_uuid = ?", (tmpl.info.run_id,)).fetchone()))
con.execute("DELETE FROM params WHERE run_uuid = ?", (tmpl.info.run_id,))
con.execute("DELETE FROM tags WHERE run_uuid = ?", (tmpl.info.run_id,))
con.execute("DELETE FROM runs WHERE run_uuid = ?", (tmpl.info.run_id,))

ins_run = f"INSERT INTO runs ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})"
run_rows, param_rows, tag_rows = [], [], []
for i in range(runs):
    rid = uuid.uuid4().hex
    exp = exp_ids[i % nexp]
    r = dict(row, run_uuid=rid, name=f"run-{i}", experiment_id=int(exp),
             artifact_uri=f"mlflow-artifacts:/{exp}/{rid}/artifacts")
    run_rows.append(tuple(r[c] for c in cols))
    tag_rows.append(("mlflow.runName", f"run-{i}", rid))
    for j in range(nparams):
        param_rows.append((f"param_{j}", param_value(i, j), rid))
    # One run in a hundred leaks a secret: half by key, half by value.
    if i % 100 == 0:
        param_rows[-1] = ("api_key", "Zx9vQ2mL7pK4rT8wY3nB6cF1", rid)
    elif i % 100 == 50:
        param_rows[-1] = ("db_uri", "postgresql://trainer:Sup3rS3cretPw@db.internal/f", rid)
    if len(param_rows) >= 200000:
        con.executemany(ins_run, run_rows)
        con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", param_rows)
        con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tag_rows)
        run_rows, param_rows, tag_rows = [], [], []
con.executemany(ins_run, run_rows)
con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", param_rows)
con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tag_rows)
con.commit()
print(con.execute("SELECT COUNT(*) FROM runs").fetchone()[0], con.execute("SELECT COUNT(*) FROM params").fetchone()[0])
