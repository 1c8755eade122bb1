package model_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite examples/models from the generator")

// TestExamples keeps examples/models identical to the generator and checks
// that every malicious example is caught and no benign one is.
func TestExamples(t *testing.T) {
	root := filepath.Join(testenv.RepoRoot(), "examples", "models")
	for name, b := range gen.Examples() {
		p := filepath.Join(root, filepath.FromSlash(name))
		if *update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s is stale or missing (go test ./internal/analyze/model -run TestExamples -update)", p)
		}
	}
	fs, _ := analyzetest.Scan(t, model.New(analyze.Options{}), root)
	hit := map[string]bool{}
	for _, f := range fs {
		hit[f.Path] = true
		if filepath.Dir(f.Path) == "benign" {
			t.Errorf("benign example reported: %s %s %s", f.Path, f.RuleID, f.Message)
		}
	}
	for name := range gen.Examples() {
		if filepath.Dir(name) == "malicious" && !hit[name] {
			t.Errorf("malicious example %s not reported", name)
		}
	}
	for _, want := range []string{"mlflow_model/MLmodel", "mlflow_pyfunc/MLmodel", "mlflow_pyfunc/python_model.pkl"} {
		if !hit[want] {
			t.Errorf("%s not reported", want)
		}
	}
}
