# Records every (module, name) that real model pickles import.
import io, json, pickle, sys, warnings, collections
warnings.filterwarnings("ignore")
import numpy as np
seen = collections.Counter()
class Rec(pickle.Unpickler):
    def find_class(self, m, n):
        seen[(m, n)] += 1
        return super().find_class(m, n)
def record(b):
    try:
        Rec(io.BytesIO(b)).load()
    except Exception as e:
        print("load fail", e, file=sys.stderr)
from sklearn.utils import all_estimators
X = np.random.RandomState(0).rand(30, 4); y = np.array([0, 1, 2] * 10); yr = X[:, 0]
import joblib, cloudpickle
ok = 0
for name, cls in all_estimators():
    try:
        est = cls()
    except Exception:
        continue
    fitted = None
    for target in (y, yr, None):
        try:
            e = cls()
            e.fit(X, target) if target is not None else e.fit(X)
            fitted = e; break
        except Exception:
            continue
    if fitted is None:
        fitted = est
    ok += 1
    for proto in (2, 4, 5):
        record(pickle.dumps(fitted, protocol=proto))
    record(cloudpickle.dumps(fitted))
print("estimators", ok, file=sys.stderr)
# joblib: uses its own unpickler; record via find_class hook on NumpyUnpickler
from joblib import numpy_pickle
orig = numpy_pickle.NumpyUnpickler.find_class
def fc(self, m, n):
    seen[(m, n)] += 1
    return orig(self, m, n)
numpy_pickle.NumpyUnpickler.find_class = fc
import tempfile, os
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
d = tempfile.mkdtemp()
for obj in (RandomForestClassifier(n_estimators=3).fit(X, y), make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
            {"a": np.arange(10), "o": np.array([1, "x", None], dtype=object), "s": np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
             "dt": np.array(["2020-01-01"], dtype="M8[ns]"), "u": np.array(["ab"]), "m": np.ma.masked_array([1, 2], mask=[0, 1]),
             "rs": np.random.RandomState(1), "g": np.random.default_rng(1), "f32": np.float32(1.5), "i": np.int64(3)}):
    for comp in (0, 3, ("gzip", 3), ("bz2", 3), ("lzma", 3), ("xz", 3), ("zlib", 3)):
        p = os.path.join(d, "m.joblib")
        joblib.dump(obj, p, compress=comp)
        joblib.load(p)
    for proto in (2, 3, 4, 5):
        record(pickle.dumps(obj, protocol=proto))
# numpy object arrays / npy
b = io.BytesIO(); np.save(b, np.array([1, "x", {"k": 2}], dtype=object), allow_pickle=True); b.seek(0)
np.lib.format.read_magic(b); np.lib.format._read_array_header(b, np.lib.format.read_magic(io.BytesIO(b.getvalue()))) if False else None
# mlflow sklearn (pickle + cloudpickle) and pyfunc
import mlflow.sklearn, mlflow.pyfunc
for fmt in ("pickle", "cloudpickle"):
    p = os.path.join(d, "sk_" + fmt)
    mlflow.sklearn.save_model(LogisticRegression().fit(X, y), p, serialization_format=fmt)
    record(open(os.path.join(p, "model.pkl"), "rb").read())
json.dump(sorted([list(k) for k in seen]), sys.stdout, indent=0)
