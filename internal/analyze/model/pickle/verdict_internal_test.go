package pickle

import (
	"sort"
	"testing"
)

// TestAllowlistAgainstDenylist: an allowlisted name inside a denied module
// is an exception someone must have reviewed; this lists them.
func TestAllowlistAgainstDenylist(t *testing.T) {
	reviewed := map[string]bool{
		"functools.partial":                     true, // forwards only to a callable the pickle imports itself
		"mlflow.pyfunc.model.PythonModel":       true, // abstract base class, no behaviour on construction
		"mlflow.models.signature._TypeHints":    true,
		"joblib.numpy_pickle.NumpyArrayWrapper": true, // joblib's array placeholder
		"joblib.numpy_pickle.NDArrayWrapper":    true,
		"uuid.UUID":                             true, // the value class, not the command helpers
	}
	var bad []string
	for q := range safeNames {
		if _, ok := dangerous(q); ok && !reviewed[q] {
			bad = append(bad, q)
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("allowlisted names inside denied modules, not reviewed: %v", bad)
	}
}

// TestNoPrefixTrust: classes under trusted packages are not safe by name.
func TestNoPrefixTrust(t *testing.T) {
	for _, c := range []struct {
		mod, name string
		want      Kind
	}{
		{"sklearn.datasets._rcv1", "GzipFile", Dangerous},
		{"sklearn.some_module", "NewEstimator", Unknown},
		{"torch.nn.modules.module", "Module", Unknown},
		{"xgboost.core", "Booster", Unknown},
		{"scipy._lib._tmpdirs", "rmtree", Dangerous}, // a re-export of shutil.rmtree
		{"pkgutil", "resolve_name", Dangerous},
		{"logging.config", "_resolve", Dangerous},
		{"_osx_support", "_read_output", Dangerous},
		{"_xxsubinterpreters", "run_string", Dangerous},
		{"test.support.script_helper", "assert_python_ok", Dangerous},
		{"sklearn.utils._testing", "assert_run_python_script_without_output", Dangerous},
		{"sklearn.linear_model._logistic", "LogisticRegression", Safe},
	} {
		if v := Classify(Import{Module: c.mod, Name: c.name}); v.Kind != c.want {
			t.Errorf("%s.%s: %v (%s), want %v", c.mod, c.name, v.Kind, v.Reason, c.want)
		}
	}
}
