package model_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestMLmodelHiddenLoadersExecute builds MLflow models whose MLmodel hides
// a loader_module or a python_model behind duplicate keys, merge keys and
// aliases, proves with the venv's mlflow.pyfunc.load_model that each one
// runs its payload (a marker file in the test's temp dir), and requires the
// default scan to report what runs.
func TestMLmodelHiddenLoadersExecute(t *testing.T) {
	py := testenv.Python(t)
	dir := t.TempDir()
	models, markers := filepath.Join(dir, "models"), filepath.Join(dir, "markers")
	if err := os.Mkdir(markers, 0o755); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join("testdata", "make_mlmodel_hidden.py")
	testenv.RunPython(t, script, nil, models)
	cmd := exec.Command(py, script, models, "load")
	cmd.Env = append(os.Environ(), "MLG_MARKER_DIR="+markers, "MLFLOW_TRACKING_URI=file://"+filepath.Join(dir, "mlruns"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("loading with mlflow: %v\n%s", err, stderr.String())
	}
	ran := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r struct {
			Model string `json:"model"`
			Ran   bool   `json:"ran"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if !r.Ran {
			t.Errorf("%s: mlflow.pyfunc.load_model did not run the payload (%s); the fixture proves nothing\n%s", r.Model, r.Error, stderr.String())
		}
		ran[r.Model] = r.Ran
	}
	// What each model must be reported for on its MLmodel (or its pickle).
	want := map[string][]string{
		"dup-loader":         {"MLmodel MLG108 loader_module", "MLmodel MLG108 ships code"},
		"merge-loader":       {"MLmodel MLG108 loader_module", "MLmodel MLG108 ships code"},
		"merge-list-loader":  {"MLmodel MLG108 loader_module", "MLmodel MLG108 ships code"},
		"alias-python-model": {"MLmodel MLG108 python_model", "python_model.pkl MLG106 "},
		"merge-python-model": {"MLmodel MLG108 python_model", "python_model.pkl MLG106 "},
	}
	if len(ran) != len(want) {
		t.Fatalf("loaded %d models, want %d", len(ran), len(want))
	}
	fs, es := analyzetest.Scan(t, model.New(analyze.Options{}), models)
	for _, e := range es {
		t.Errorf("scan error: %s", e)
	}
	got := map[string][]string{}
	for _, f := range fs {
		m, file, _ := strings.Cut(f.Path, "/")
		got[m] = append(got[m], file+" "+f.RuleID+" "+f.Message)
	}
	for m, parts := range want {
		for _, part := range parts {
			f := strings.SplitN(part, " ", 3)
			found := false
			for _, g := range got[m] {
				if strings.HasPrefix(g, f[0]+" "+f[1]+" ") && strings.Contains(g, f[2]) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no finding %q; got %q", m, part, got[m])
			}
		}
	}
}
