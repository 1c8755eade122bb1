package python

import (
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

func testPolicy() config.Policy {
	p := config.DefaultPolicy()
	p.ArtifactLocations = []string{"s3://mlflow-artifacts/", "gs://mlflow-artifacts/", "s3://team-bucket/"}
	return p
}

// TestFixtures runs every fixture under testdata/src against its want comments.
func TestFixtures(t *testing.T) {
	a := New(analyze.Options{Policy: testPolicy()})
	got := analyzetest.Run(t, a, "testdata/src", false)
	if len(got) == 0 {
		t.Fatal("fixtures produced no findings at all")
	}
	for _, f := range got {
		if f.Line <= 0 || f.Column <= 0 {
			t.Errorf("%s: %s finding without a position", f.Path, f.RuleID)
		}
	}
}

// TestPlainHTTPLevels: plain http to a single-label name (a compose
// service) is advisory, to any other host beyond loopback it keeps the
// rule's level: the deploy analyzer judges compose, .env and shell the same.
func TestPlainHTTPLevels(t *testing.T) {
	a := New(analyze.Options{Policy: testPolicy()})
	fs, _ := analyzetest.Scan(t, a, "testdata/src/plainhttp")
	want := map[int]finding.Level{7: finding.Advisory, 8: finding.Advisory, 9: finding.LevelNone, 10: finding.LevelNone, 13: finding.LevelNone,
		18: finding.Advisory, 19: finding.LevelNone}
	for _, f := range fs {
		l, ok := want[f.Line]
		if !ok {
			t.Errorf("unexpected finding at line %d: %s", f.Line, f.Message)
			continue
		}
		if f.Level != l {
			t.Errorf("line %d %s: level %v, want %v", f.Line, f.RuleID, f.Level, l)
		}
		delete(want, f.Line)
	}
	if len(want) > 0 {
		t.Errorf("missing findings at lines %v", want)
	}
}
