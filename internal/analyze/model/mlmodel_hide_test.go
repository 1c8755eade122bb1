package model

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestMLmodelHiding: each way YAML lets a document hide a loader or a
// python_model from a naive reader is resolved as PyYAML resolves it.
func TestMLmodelHiding(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"duplicate key, last wins", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    loader_module: evil_mod\n", "MLG108"},
		{"duplicate key, benign last", "flavors:\n  python_function:\n    loader_module: evil_mod\n    loader_module: mlflow.sklearn\n", ""},
		{"duplicate flavors", "flavors:\n  onnx: {data: m.onnx}\nflavors:\n  python_function: {python_model: p.pkl, loader_module: mlflow.pyfunc.model}\n", "MLG108"},
		{"merge key", "x: &h {python_model: p.pkl}\nflavors:\n  python_function:\n    <<: *h\n    loader_module: mlflow.pyfunc.model\n", "MLG108"},
		{"merge list, later wins", "a: &a {loader_module: mlflow.sklearn}\nb: &b {loader_module: evil_mod}\nflavors:\n  python_function: {<<: [*a, *b]}\n", "MLG108"},
		{"merge overridden", "x: &h {loader_module: evil_mod}\nflavors:\n  python_function:\n    <<: *h\n    loader_module: mlflow.sklearn\n", ""},
		{"aliased flavor", "t: &fl {loader_module: evil_mod}\nflavors: {python_function: *fl}\n", "MLG108"},
		{"escaped key", "flavors:\n  python_function:\n    \"\\x6coader_module\": evil_mod\n", "MLG108"},
		{"complex key", "flavors:\n  python_function:\n    ? loader_module\n    : evil_mod\n", "MLG108"},
		{"model from code", "flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n    model_code_path: model.py\n", "MLG108"},
		{"code false", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    code: no\n", ""},
		{"quoted merge is a key", "a: &a {loader_module: evil_mod}\nflavors:\n  python_function:\n    \"<<\": *a\n    loader_module: mlflow.sklearn\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := judgedRules(t, c.doc); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestMLmodelUnresolvable: what safe_load refuses, and what we will not
// expand, is an error with a cause (MLG111 in the scan), fast.
func TestMLmodelUnresolvable(t *testing.T) {
	var laughs strings.Builder
	laughs.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&laughs, "a%d: &a%d [*a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d, *a%[3]d]\n", i, i, i-1)
	}
	laughs.WriteString("flavors:\n  python_function:\n    code_paths: *a12\n")
	var merges strings.Builder
	merges.WriteString("m0: &m0 {k0: 1, k1: 2, k2: 3, k3: 4}\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&merges, "m%d: &m%d {<<: [*m%d], k%d: 1}\n", i, i, i-1, i+3)
	}
	merges.WriteString("flavors:\n  python_function: *m40\n")
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	cases := []struct{ name, doc, cause string }{
		{"python tag", "flavors:\n  python_function:\n    loader_module: !!python/name:os.system\n", "parse"},
		{"two documents", "flavors: {}\n---\nflavors: {}\n", "parse"},
		{"recursive merge", "a: &a {<<: *a}\nflavors: {}\n", "parse"},
		{"tab", "flavors:\n  python_function:\n    code:\tx\n", "parse"},
		{"not a mapping", "- a\n", "parse"},
		{"deep", "flavors:\n  python_function:\n    code: " + deep + "\n", "limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := JudgeMLmodel([]byte(c.doc))
			var me *MLmodelError
			if !errors.As(err, &me) || me.Cause != c.cause {
				t.Fatalf("got %v, want an MLmodelError with cause %s", err, c.cause)
			}
		})
	}
	// Billion laughs: 10^13 strings by unfolding, linear for us.
	start := time.Now()
	ps, err := JudgeMLmodel([]byte(laughs.String()))
	if err != nil || len(ps) != 1 || ps[0].RuleID != "MLG108" {
		t.Errorf("alias bomb: %v %+v", err, ps)
	}
	if _, err := JudgeMLmodel([]byte(merges.String())); err != nil {
		t.Errorf("chained merges: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("alias and merge bombs took %v", d)
	}
}

// TestMLmodelRedacts: a credential in a loader_module (or any quoted
// value) never reaches a message.
func TestMLmodelRedacts(t *testing.T) {
	key := "AKIA" + "Z7QH3RTX5LBW2KOP"
	doc := "flavors:\n  python_function:\n    loader_module: \"pkg.loader;AWS_SECRET=" + key + "\"\n    data: ../../" + key + "\n"
	ps, err := JudgeMLmodel([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("want MLG108 and MLG109, got %+v", ps)
	}
	for _, p := range ps {
		if strings.Contains(p.Message, key[4:]) {
			t.Errorf("%s message leaks the key: %s", p.RuleID, p.Message)
		}
		if !strings.Contains(p.Message, "AKIA*") {
			t.Errorf("%s message does not show the redaction: %s", p.RuleID, p.Message)
		}
	}
	long := strings.Repeat("m", 5000)
	ps, _ = JudgeMLmodel([]byte("flavors:\n  python_function:\n    loader_module: " + long + "\n"))
	if len(ps) != 1 || len(ps[0].Message) > 400 {
		t.Errorf("long value not cut: %d bytes", len(ps[0].Message))
	}
}
