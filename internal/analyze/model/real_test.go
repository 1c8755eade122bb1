package model_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestRealLibraries produces files with scikit-learn, joblib, skops, numpy,
// safetensors, onnx and cloudpickle from the pinned venv and checks the
// verdicts: real benign shapes are clean, real payloads are caught.
func TestRealLibraries(t *testing.T) {
	dir := t.TempDir()
	testenv.RunPython(t, filepath.Join("testdata", "make_real.py"), nil, dir)
	a := model.New(analyze.Options{})
	fs, es := analyzetest.Scan(t, a, filepath.Join(dir, "benign"))
	for _, f := range fs {
		t.Errorf("benign %s %s: %s %s", f.Path, f.Member, f.RuleID, f.Message)
	}
	for _, e := range es {
		t.Errorf("benign error: %s", e)
	}

	fs, es = analyzetest.Scan(t, model.New(analyze.Options{}), filepath.Join(dir, "evil"))
	got := map[string][]string{}
	for _, f := range fs {
		got[f.Path] = append(got[f.Path], f.RuleID+" "+f.Message)
	}
	want := map[string]string{
		"os_system.p0": "posix.system", "os_system.p1": "posix.system", "os_system.p2": "posix.system",
		"os_system.p3": "posix.system", "os_system.p4": "posix.system", "os_system.p5": "posix.system",
		"evil.pkl.gz": "posix.system", "evil.pkl.bz2": "posix.system", "evil.pkl.xz": "posix.system",
		"evil.joblib": "posix.system", "evil.joblib.z": "posix.system", "evil.joblib.lzma": "posix.system", "after_array.joblib": "posix.system", "objarr.npy": "posix.system",
		"lambda.cloudpickle": "cloudpickle", "custom.onnx": "com.attacker",
	}
	for file, part := range want {
		ok := false
		for _, m := range got[file] {
			if strings.Contains(m, part) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: want a finding naming %s, got %v", file, part, got[file])
		}
	}
	for _, e := range es {
		t.Logf("evil error: %s", e)
	}

	// mlflow.sklearn.save_model(..., serialization_format="cloudpickle")
	fs, _ = analyzetest.Scan(t, model.New(analyze.Options{}), filepath.Join(dir, "mlflow"))
	var mlg101 bool
	for _, f := range fs {
		switch {
		case f.RuleID == "MLG101" && f.Path == "logreg/MLmodel":
			mlg101 = true
		case f.RuleID == "MLG106" || f.RuleID == "MLG107":
			t.Errorf("real MLflow sklearn model: %s %s", f.Path, f.Message)
		}
	}
	if !mlg101 {
		t.Errorf("real MLmodel with cloudpickle serialization not reported as MLG101: %+v", fs)
	}
}
