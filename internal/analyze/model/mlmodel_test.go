package model

import (
	"sort"
	"strings"
	"testing"
)

func judgedRules(t *testing.T, doc string) string {
	t.Helper()
	ps, err := JudgeMLmodel([]byte(doc))
	if err != nil {
		t.Fatalf("JudgeMLmodel: %v", err)
	}
	var ids []string
	for _, p := range ps {
		if p.Line <= 0 {
			t.Errorf("%s problem without a line: %s", p.RuleID, p.Message)
		}
		ids = append(ids, p.RuleID)
	}
	sort.Strings(ids)
	return strings.Join(ids, " ")
}

func TestJudgeMLmodel(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"cloudpickle sklearn", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n", "MLG101"},
		{"skops sklearn", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.skops\n    serialization_format: skops\n    code: null\n", ""},
		{"onnx", "flavors:\n  onnx:\n    data: model.onnx\n  python_function:\n    loader_module: mlflow.onnx\n", ""},
		{"custom pyfunc", "flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n    python_model: python_model.pkl\n", "MLG108"},
		{"foreign loader", "flavors:\n  python_function:\n    loader_module: my_pkg.loader\n    data: weights\n", "MLG108"},
		{"code paths", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    code: code\n  sklearn:\n    pickled_model: model.skops\n    serialization_format: skops\n", "MLG108"},
		{"empty code list", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    code_paths: []\n", ""},
		{"legacy pickled_model", "flavors:\n  statsmodels:\n    pickled_model: model.pkl\n", "MLG101"},
		{"torch pickle module", "flavors:\n  pytorch:\n    model_data: data\n    pickle_module_name: mlflow.pytorch.pickle_module\n", "MLG101"},
		{"escaping data path", "flavors:\n  onnx:\n    data: ../../etc/model.onnx\n", "MLG109"},
		{"non-mapping flavor skipped", "flavors:\n  x: [1]\n  onnx:\n    data: model.onnx\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := judgedRules(t, c.doc); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	for _, bad := range []string{"", "flavors: 3\n", ":\n  - ][", "- a\n"} {
		if _, err := JudgeMLmodel([]byte(bad)); err == nil {
			t.Errorf("JudgeMLmodel(%q): no error", bad)
		}
	}
}
