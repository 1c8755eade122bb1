package python

import (
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
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
