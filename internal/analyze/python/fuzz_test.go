package python

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
)

// FuzzAnalyze: no input may panic (the analyzer turns a panic into an
// "internal error" entry, which fails here), hang, or point outside the file.
func FuzzAnalyze(f *testing.F) {
	files, _ := filepath.Glob("testdata/src/*.py")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("import mlflow\nmlflow.log_param(f'{x!r:>{w}}', {**a, 'k': [*b]})\n"))
	a := New(analyze.Options{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		res := a.analyzeBytes(ctx, "f.py", b)
		if d := time.Since(start); d > 4*time.Second {
			t.Fatalf("analysis took %v", d)
		}
		for _, e := range res.Errors {
			if strings.Contains(e.Message, "internal error") {
				t.Fatalf("panic: %s", e.Message)
			}
		}
		lines := bytes.Count(b, []byte("\n")) + 1
		for _, fd := range res.Findings {
			if fd.Line < 1 || fd.Line > lines || fd.EndLine < fd.Line || fd.RuleID == "" || fd.Message == "" {
				t.Fatalf("bad finding %+v (file has %d lines)", fd, lines)
			}
		}
	})
}
