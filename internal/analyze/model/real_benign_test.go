package model_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestBenignRealLibraries makes models with scikit-learn (MLflow's sklearn
// flavor in the default skops, pickle and cloudpickle formats), joblib with
// every compressor, skops, numpy, safetensors, onnx (onnx.helper), MLflow
// pyfunc and onnx flavors, and Keras 3 (.keras, legacy .h5, MLflow keras
// flavor) in the pinned venv, and requires no MLG106, MLG107 or MLG111.
func TestBenignRealLibraries(t *testing.T) {
	py := testenv.Python(t)
	dir := filepath.Join(t.TempDir(), "benign")
	cmd := exec.Command(py, filepath.Join("testdata", "make_benign.py"), dir)
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI=file://"+filepath.Join(filepath.Dir(dir), "mlruns"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make_benign.py: %v\n%s", err, stderr.String())
	}
	made := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var n struct{ Kind, Name, Reason string }
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			t.Fatalf("make_benign.py output %q: %v", sc.Text(), err)
		}
		switch n.Kind {
		case "made":
			made++
		default:
			t.Logf("not covered: %s (%s)", n.Name, n.Reason)
		}
	}
	if made < 120 {
		t.Fatalf("make_benign.py made only %d artifacts\n%s", made, stderr.String())
	}
	fs, es := analyzetest.Scan(t, model.New(analyze.Options{}), dir)
	for _, e := range es {
		t.Errorf("benign file error: %s", e)
	}
	files := map[string]bool{}
	for _, f := range fs {
		files[strings.SplitN(f.Path, "/", 2)[0]] = true
		switch f.RuleID {
		case "MLG106", "MLG107", "MLG111":
		default:
			continue
		}
		t.Errorf("benign %s %s: %s %s", f.Path, f.Member, f.RuleID, f.Message)
	}
	t.Logf("%d artifacts scanned", made)
}

// TestKerasLambdasExecute saves Keras 3 models with lambdas, proves with
// keras.saving.load_model(safe_mode=False) in the venv that the payloads
// run (a marker file), and requires the scan to report each one: a .keras
// zip, a legacy .h5, a Lambda nested six models deep, a .keras zip without
// metadata.json under another name, a harmless lambda and a lambda used as
// an activation (which Keras 3.15 saves but no longer loads).
func TestKerasLambdasExecute(t *testing.T) {
	py := testenv.Python(t)
	tmp := t.TempDir()
	dir, markers := filepath.Join(tmp, "keras"), filepath.Join(tmp, "markers")
	if err := os.Mkdir(markers, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join("testdata", "make_keras.py")
	env := append(os.Environ(), "MLG_MARKER_DIR="+markers)
	for _, args := range [][]string{{script, dir}, {script, dir, "load"}} {
		cmd := exec.Command(py, args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			if strings.Contains(stderr.String(), "No module named 'keras'") {
				testenv.Require(t, "keras in the test venv")
			}
			t.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			var r struct {
				Model, Error string
				Ran          bool
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			mustRun := r.Model != "double.keras" && r.Model != "activation.keras"
			if mustRun && !r.Ran {
				t.Errorf("%s: loading did not run the payload (%s); the fixture proves nothing", r.Model, r.Error)
			}
		}
	}
	want := map[string][]string{
		"lambda.keras":     {"MLG108", "MLG106"},
		"lambda.h5":        {"MLG108", "MLG106"},
		"nested.keras":     {"MLG108", "MLG106"},
		"renamed.bin":      {"MLG108", "MLG106"},
		"double.keras":     {"MLG108"},
		"activation.keras": {"MLG108"},
	}
	fs, es := analyzetest.Scan(t, model.New(analyze.Options{}), dir)
	for _, e := range es {
		t.Errorf("scan error: %s", e)
	}
	got := map[string][]string{}
	for _, f := range fs {
		got[f.Path] = append(got[f.Path], f.RuleID)
	}
	for file, rules := range want {
		g := got[file]
		sort.Strings(g)
		w := append([]string{}, rules...)
		sort.Strings(w)
		if strings.Join(g, " ") != strings.Join(w, " ") {
			t.Errorf("%s: got %v, want %v", file, g, w)
		}
	}
}
