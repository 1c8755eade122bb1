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

// TestRedTeamRows: the callables of the second red-team round
// (testdata/redteam.py proves the ones installed in the test venv run code
// under pickle.load), attribute chains through module aliases, and the
// lowercase classes a chain may walk through without being a module.
func TestRedTeamRows(t *testing.T) {
	for _, c := range []struct {
		mod, name string
		want      Kind
	}{
		{"numpy.core", "_ufunc_reconstruct", Dangerous},
		{"numpy._core", "_ufunc_reconstruct", Dangerous},
		{"scipy._lib._uarray._backend", "unpickle_function", Dangerous},
		{"dataclasses", "_create_fn", Dangerous},
		{"argparse", "FileType", Dangerous},
		{"argparse", "Namespace", Safe},
		{"typing", "_eval_type", Dangerous},
		{"typing", "ForwardRef._evaluate", Dangerous},
		{"scipy.optimize._nonlin", "_nonlin_wrapper", Dangerous},
		{"_bootsubprocess", "check_output", Dangerous},
		{"_sitebuiltins", "_Helper", Dangerous},
		{"_pyrepl.pager", "pipe_pager", Dangerous},
		{"pandas.compat._optional", "import_optional_dependency", Dangerous},
		{"sklearn.utils._set_output", "check_library_installed", Dangerous},
		{"numpy._core.function_base", "add_newdoc", Dangerous},
		{"warnings", "_getcategory", Dangerous},
		{"torch.storage", "_load_from_bytes", Dangerous},
		{"torch.multiprocessing", "spawn", Dangerous},
		{"numpy.lib._format_impl", "read_array", Dangerous},
		// module aliases reached by attribute chains
		{"random", "_os.system", Dangerous},
		{"threading", "_os.system", Dangerous},
		{"some.module", "mp.Process", Dangerous},
		{"some.module", "bltns.eval", Dangerous},
		// classes walked by a chain stay judged as what they are
		{"datetime", "datetime.fromtimestamp", Unknown},
		{"builtins", "dict.fromkeys", Unknown},
		{"mypkg", "Outer.Inner", Unknown},
		{"numpy", "core.multiarray._reconstruct", Safe},
	} {
		if v := Classify(Import{Module: c.mod, Name: c.name}); v.Kind != c.want {
			t.Errorf("%s.%s: %v (%s), want %v", c.mod, c.name, v.Kind, v.Reason, c.want)
		}
	}
}

// TestModuleAliasChainNeedsIdentifiers: the alias-chain rule is for
// Python bindings; a go.sum line read as a protocol 0 GLOBAL (its 'c'
// opcode) names no binding and stays merely unknown.
func TestModuleAliasChainNeedsIdentifiers(t *testing.T) {
	for _, c := range []struct {
		mod, name string
		want      Kind
	}{
		{"random", "_os.system", Dangerous},
		{"threading", "_os.system", Dangerous},
		{"el.dev/expr v0.24.0 h1:56OvJKSH3hDGL0ml5uSxZmz3/3Pq4tJ+fb1unVLAFcY=", "cel.dev/expr v0.24.0/go.mod h1:hLPLo1W4QUmuYdA72RBX06QTs6MXw941piREPl3Yfiw=", Unknown},
		{"pkg", "mod.sub dir.call", Unknown},
	} {
		if v := Classify(Import{Module: c.mod, Name: c.name}); v.Kind != c.want {
			t.Errorf("%s %s: got %v (%s), want %v", c.mod, c.name, v.Kind, v.Reason, c.want)
		}
	}
}
