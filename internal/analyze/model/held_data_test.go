package model_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestBenignLargeDataPickles scans ordinary data pickles bigger than the
// walker's budget for kept values (10 and 30 MB lists of (int, str, float)
// made by pickle.dump in the venv) and requires a clean pass: no MLG111.
// A stream that fetches a value forgotten past that budget back as a
// joblib array's shape is reported MLG111, and its payload is not missed.
func TestBenignLargeDataPickles(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and scans pickles of 10 and 30 MB")
	}
	py := testenv.Python(t)
	dir := t.TempDir()
	for _, rows := range []int{340_000, 1_000_000} {
		out := filepath.Join(dir, "rows-"+strconv.Itoa(rows)+".pkl")
		cmd := exec.Command(py, filepath.Join("pickle", "testdata", "make_data.py"), "tuples", strconv.Itoa(rows), out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make_data.py: %v\n%s", err, b)
		}
	}
	fs, es := analyzetest.Scan(t, model.New(analyze.Options{}), dir)
	for _, e := range es {
		t.Errorf("benign file error: %s", e)
	}
	for _, f := range fs {
		t.Errorf("benign %s: %s %s", f.Path, f.RuleID, f.Message)
	}

	bad := t.TempDir()
	shape := func(p *gen.P) {
		for i := 0; i < 300_000; i++ {
			p.Int(i).BinUnicode("row " + strconv.Itoa(i)).Memoize().Int(i).Raw(0x87).Memoize().Pop()
		}
		p.Int(3).Tuple1().Memoize().Pop().Get(600_000)
	}
	b := gen.Joblib(gen.JoblibOpts{Shape: shape, Dtype: "<f8", Align: -1, Data: make([]byte, 24), Proto: 4,
		AfterData: func(p *gen.P) { p.Pop().Global("os", "system").Unicode("id").Tuple1().Reduce() }})
	if err := os.WriteFile(filepath.Join(bad, "model.joblib"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	fs, _ = analyzetest.Scan(t, model.New(analyze.Options{}), bad)
	unverified := false
	for _, f := range fs {
		unverified = unverified || f.RuleID == "MLG111" && strings.Contains(f.Message, "dropped from memory")
	}
	if !unverified {
		t.Fatalf("forgotten shape not reported MLG111: %+v", fs)
	}
}
