package model_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestRedTeamRunAndFail is the second red-team round (testdata/redteam.py):
// opcode variants of every protocol, STACK_GLOBAL operands from the memo and
// escapes, attribute chains through module aliases (random._os), code-running
// callables outside os/subprocess (dataclasses._create_fn, typing._eval_type,
// numpy.core._ufunc_reconstruct, scipy's unpickle_function and
// _nonlin_wrapper, argparse.FileType), arrays followed by a pickle or an
// object array, containers and extension lies. Every evil file must run its
// payload under its real loader (its marker appears) and fail the default
// scan; numpy's own arrays, alone and saved one after another, stay clean.
func TestRedTeamRunAndFail(t *testing.T) {
	dir := t.TempDir()
	testenv.RunPython(t, filepath.Join("testdata", "redteam.py"), nil, dir)
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
		// A later pickle of the stream that pickle.load never reaches:
		// legacy torch reads several, so it must fail all the same.
		if _, err := os.Stat(filepath.Join(dir, "markers", name)); err != nil && name != "second_pickle.pkl" {
			t.Errorf("%s: the payload did not run under %s, so it proves nothing: %v", name, loaders[name], err)
			continue
		}
		failed := false
		for _, m := range got[name] {
			if strings.HasPrefix(m, "MLG106") || strings.HasPrefix(m, "MLG111") {
				failed = true
			}
		}
		if !failed {
			t.Errorf("%s runs its payload under %s but the scan does not fail it: %v", name, loaders[name], got[name])
		}
	}
	for _, e := range es {
		t.Errorf("evil error: %v", e)
	}
	fs, es = analyzetest.Scan(t, model.New(analyze.Options{}), filepath.Join(dir, "benign"))
	for _, f := range fs {
		t.Errorf("benign %s %s: %s %s", f.Path, f.Member, f.RuleID, f.Message)
	}
	for _, e := range es {
		t.Errorf("benign error: %v", e)
	}
}
