package model_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestBypassesRunAndFail builds the container and sniffing bypasses of
// issue 9 with testdata/bypass.py, which loads each one in a fresh CPython
// with the real loader (pickle, joblib, numpy, zipfile as torch.load opens
// archive/data.pkl). Each payload only creates its marker file. A bypass
// counts only if its marker exists, and then the default scan must fail it
// (MLG106, or MLG111 where the scanner cannot read the variant). The
// benign look-alikes from the same libraries must get none of
// MLG106/MLG107/MLG111.
func TestBypassesRunAndFail(t *testing.T) {
	dir := t.TempDir()
	testenv.RunPython(t, filepath.Join("testdata", "bypass.py"), nil, dir)
	raw, err := os.ReadFile(filepath.Join(dir, "evil.json"))
	if err != nil {
		t.Fatal(err)
	}
	var loaders map[string]string
	if err := json.Unmarshal(raw, &loaders); err != nil {
		t.Fatal(err)
	}
	fs, es := analyzetest.Scan(t, model.New(analyze.Options{}), filepath.Join(dir, "evil"))
	got := map[string][]string{}
	for _, f := range fs {
		got[f.Path] = append(got[f.Path], f.RuleID+" "+f.Member+": "+f.Message)
	}
	names := make([]string, 0, len(loaders))
	for n := range loaders {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(dir, "markers", name)); err != nil {
			t.Errorf("%s: the payload did not run under %s, so it proves nothing: %v", name, loaders[name], err)
			continue
		}
		failed := false
		for _, m := range got[name] {
			if m[:6] == "MLG106" || m[:6] == "MLG111" {
				failed = true
			}
		}
		if !failed {
			t.Errorf("%s runs its payload under %s but the scan does not fail it: %v", name, loaders[name], got[name])
		} else {
			t.Logf("%s (%s): %v", name, loaders[name], got[name])
		}
	}
	for _, e := range es {
		t.Errorf("evil error: %v", e)
	}

	fs, es = analyzetest.Scan(t, model.New(analyze.Options{}), filepath.Join(dir, "benign"))
	for _, f := range fs {
		switch f.RuleID {
		case "MLG106", "MLG107", "MLG111":
			t.Errorf("benign %s %s: %s %s", f.Path, f.Member, f.RuleID, f.Message)
		}
	}
	for _, e := range es {
		t.Errorf("benign error: %v", e)
	}
}
