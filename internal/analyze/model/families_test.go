package model_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model/internal/gen"
)

// TestFamilies: every file of a malicious family gets MLG106; no file of a
// benign family gets MLG106 or MLG107 (the benchmark uses the same files).
func TestFamilies(t *testing.T) {
	for _, fam := range gen.Families() {
		t.Run(fam.Slug(), func(t *testing.T) {
			dir := t.TempDir()
			for i := 0; i < 12; i++ {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf(fam.File, i)), fam.Make(i), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fs, _ := analyzetest.Scan(t, model.New(analyze.Options{}), dir)
			flagged := map[string]bool{}
			for _, f := range fs {
				if f.RuleID == "MLG106" || f.RuleID == "MLG107" {
					flagged[f.Path] = true
				}
			}
			if fam.Malicious && len(flagged) != 12 {
				t.Fatalf("%d/12 flagged: %v", len(flagged), fs)
			}
			if !fam.Malicious && len(flagged) != 0 {
				t.Fatalf("benign flagged: %v", fs)
			}
		})
	}
}
