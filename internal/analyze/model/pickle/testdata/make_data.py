"""Writes a benign data pickle the way applications do (see held_test.go).

usage: make_data.py KIND ROWS OUT
  tuples    pickle.dump of a list of (int, str, float), default protocol
  tuples2   the same with protocol 2 (BINPUT/BINGET instead of MEMOIZE)
  records   a list of dicts with a datetime each
  frame     a pandas DataFrame (int, object str, float, datetime columns)
  joblib    joblib.dump of {"rows": the tuples, "model": a fitted pipeline}
"""
import datetime
import pickle
import sys

kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [(i, f"name {i}", i * 0.5) for i in range(n)]
with open(out, "wb") as f:
    if kind == "tuples":
        pickle.dump(rows, f)
    elif kind == "tuples2":
        pickle.dump(rows, f, protocol=2)
    elif kind == "records":
        t0 = datetime.datetime(2024, 1, 1)
        recs = [{"id": i, "name": f"user_{i}", "score": i * 0.25, "when": t0 + datetime.timedelta(seconds=i)}
                for i in range(n)]
        pickle.dump(recs, f)
    elif kind == "frame":
        import pandas as pd
        df = pd.DataFrame({"id": range(n), "name": pd.Series([r[1] for r in rows], dtype=object), "score": [r[2] for r in rows],
                           "when": pd.date_range("2024-01-01", periods=n, freq="s")})
        pickle.dump(df, f)
    elif kind == "joblib":
        import joblib
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        x = np.arange(40.0).reshape(20, 2)
        y = np.arange(20) % 2
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
        f.close()
        joblib.dump({"rows": rows, "model": model, "labels": np.array(["a", "b"])}, out)
    else:
        sys.exit("unknown kind " + kind)
