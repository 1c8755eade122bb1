package python

import (
	"path"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// Test code and framework callbacks: values that neither a user nor an
// operator chooses.

// mockDecorator reports a decorator object that is a mocking helper
// (@mock.patch(...), @unittest.mock.patch), not a web app (@app.patch).
func mockDecorator(obj string) bool {
	return obj == "mock" || strings.HasSuffix(obj, ".mock") || obj == "mocker"
}

// fixtureDecorator reports @pytest.fixture, @pytest.fixture(...) and
// @fixture.
func fixtureDecorator(dec string) bool {
	return dec == "pytest.fixture" || dec == "fixture" || strings.HasSuffix(dec, ".fixture")
}

// ownContextParam reports the context a model server hands to the model's
// own loading hook: PythonModel.load_context(context) (context.artifacts are
// the files packaged with the model) and a TorchServe handler's
// initialize(ctx) (the model archive's directory and manifest).
func ownContextParam(fn string, method bool, param string) bool {
	return method && (fn == "load_context" && param == "context" ||
		fn == "initialize" && (param == "ctx" || param == "context"))
}

// ownParam reports a parameter that the code's own framework or test runner
// fills: pytest passes fixtures and parametrize values to test_* functions
// and fixtures; MLflow passes PythonModel.load_context the model's packaged
// artifacts; TorchServe passes a handler's initialize the context of its own
// model archive.
func ownParam(fn string, method bool, param string, fixture bool) bool {
	switch {
	case fixture, strings.HasPrefix(fn, "test_") || fn == "test":
		return true
	case method && fn == "load_context" && param == "context":
		return true
	case method && fn == "initialize" && (param == "ctx" || param == "context"):
		return true
	}
	return false
}

// testOnlyRules are the code rules whose findings in test files describe the
// test, not the product: a test unpickles what it pickled, promotes a
// throwaway model, logs a model to check logging. Secrets (MLG201, MLG403)
// and insecure endpoints are still reported in tests.
var testOnlyRules = map[string]bool{
	"MLG101": true, "MLG102": true, "MLG103": true, "MLG104": true, "MLG105": true,
	"MLG202": true, "MLG203": true, "MLG301": true,
}

// testPath reports a file of a test suite: under a tests/ or test/
// directory, or named test_*.py, *_test.py or conftest.py.
func testPath(p string) bool {
	b := path.Base(p)
	if strings.HasPrefix(b, "test_") || strings.HasSuffix(b, "_test.py") || b == "conftest.py" {
		return true
	}
	for _, seg := range strings.Split(path.Dir(p), "/") {
		switch seg {
		case "tests", "test", "testing":
			return true
		}
	}
	return false
}

// dropTestFindings removes testOnlyRules findings of a test file.
func dropTestFindings(name string, fs []finding.Finding) []finding.Finding {
	if !testPath(name) {
		return fs
	}
	out := fs[:0]
	for _, f := range fs {
		if !testOnlyRules[f.RuleID] {
			out = append(out, f)
		}
	}
	return out
}
