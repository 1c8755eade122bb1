import io, json, pickle, sys, warnings, collections, os, tempfile
warnings.filterwarnings("ignore")
import numpy as np
seen = collections.Counter()
class Rec(pickle.Unpickler):
    def find_class(self, m, n):
        seen[(m, n)] += 1
        return super().find_class(m, n)
def record(b):
    try: Rec(io.BytesIO(b)).load()
    except Exception as e: print("load fail", e, file=sys.stderr)
X = np.random.RandomState(0).rand(40, 4); y = np.array([0, 1] * 20); yr = X[:, 0]
from sklearn.linear_model import LogisticRegression as LR, Ridge
from sklearn.tree import DecisionTreeClassifier as DT
from sklearn import compose, pipeline, ensemble, multioutput, multiclass, feature_selection, model_selection, preprocessing, metrics, impute, neighbors, frozen
from sklearn.experimental import enable_halving_search_cv, enable_iterative_imputer
import pandas as pd
df = pd.DataFrame(X, columns=list("abcd")); df["cat"] = ["x", "y"] * 20
objs = [
 (compose.ColumnTransformer([("num", preprocessing.StandardScaler(), ["a", "b"]), ("cat", preprocessing.OneHotEncoder(), ["cat"])], remainder="passthrough"), df, y),
 (compose.make_column_transformer((preprocessing.StandardScaler(), compose.make_column_selector(dtype_include=np.number))), df, y),
 (pipeline.FeatureUnion([("a", preprocessing.StandardScaler()), ("b", preprocessing.MinMaxScaler())]), X, y),
 (pipeline.make_pipeline(preprocessing.FunctionTransformer(np.log1p), LR()), X, y),
 (ensemble.VotingClassifier([("a", LR()), ("b", DT())]), X, y), (ensemble.VotingRegressor([("a", Ridge())]), X, yr),
 (ensemble.StackingClassifier([("a", LR())]), X, y), (ensemble.StackingRegressor([("a", Ridge())]), X, yr),
 (multioutput.MultiOutputClassifier(LR()), X, np.c_[y, y]), (multioutput.MultiOutputRegressor(Ridge()), X, np.c_[yr, yr]),
 (multioutput.ClassifierChain(LR()), X, np.c_[y, y]), (multioutput.RegressorChain(Ridge()), X, np.c_[yr, yr]),
 (multiclass.OneVsOneClassifier(LR()), X, y), (multiclass.OutputCodeClassifier(LR()), X, y),
 (feature_selection.RFE(LR()), X, y), (feature_selection.RFECV(LR()), X, y), (feature_selection.SelectFromModel(LR()), X, y),
 (feature_selection.SequentialFeatureSelector(LR(), n_features_to_select=2), X, y),
 (model_selection.GridSearchCV(LR(), {"C": [1, 2]}), X, y), (model_selection.RandomizedSearchCV(LR(), {"C": [1, 2]}, n_iter=2), X, y),
 (model_selection.HalvingGridSearchCV(LR(), {"C": [1, 2]}), X, y),
 (model_selection.GridSearchCV(LR(), {"C": [1, 2]}, scoring="f1"), X, y),
 (model_selection.GridSearchCV(LR(), {"C": [1, 2]}, scoring=metrics.make_scorer(metrics.accuracy_score)), X, y),
 (model_selection.FixedThresholdClassifier(LR()), X, y), (model_selection.TunedThresholdClassifierCV(LR()), X, y),
 (impute.IterativeImputer(), X, y), (ensemble.BaggingClassifier(LR()), X, y),
 (frozen.FrozenEstimator(LR().fit(X, y)), X, y),
 (ensemble.HistGradientBoostingClassifier(categorical_features=[0]), X, y),
]
for est, a, b in objs:
    try: est.fit(a, b)
    except Exception as e: print("fit fail", type(est).__name__, e, file=sys.stderr)
    for proto in (2, 5): record(pickle.dumps(est, protocol=proto))
record(pickle.dumps(df, protocol=5)); record(pickle.dumps(pd.Series([1, 2]), protocol=2))
import cloudpickle, mlflow.pyfunc
class M(mlflow.pyfunc.PythonModel):
    def __init__(self): self.k = 3
    def predict(self, context, model_input, params=None):
        import math
        return [math.sqrt(self.k) + len(model_input)]
d = tempfile.mkdtemp()
mlflow.pyfunc.save_model(os.path.join(d, "pf"), python_model=M())
cp = [set()]
class Rec2(pickle.Unpickler):
    def find_class(self, m, n):
        cp[0].add((m, n)); return super().find_class(m, n)
for root, _, files in os.walk(os.path.join(d, "pf")):
    for f in files:
        if f.endswith(".pkl"):
            Rec2(open(os.path.join(root, f), "rb")).load()
print(json.dumps({"real": sorted([list(k) for k in seen]), "pyfunc": sorted([list(k) for k in cp[0]])}))
