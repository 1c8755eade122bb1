package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run go test ./internal/report -update)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the writer's output (run with -update after checking the diff)\n--- got ---\n%s", path, got)
	}
}

func render(t *testing.T, format string, opts Options, r *Report) []byte {
	t.Helper()
	w, err := New(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := w.Write(&b, r); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return b.Bytes()
}

func TestGoldenWriters(t *testing.T) {
	cases := []struct {
		name   string
		format string
		opts   Options
		r      func() *Report
	}{
		{"full.txt.golden", "text", Options{}, fullReport},
		{"full.color.txt.golden", "text", Options{Color: true}, fullReport},
		{"full.json.golden", "json", Options{}, fullReport},
		{"full.sarif.golden", "sarif", Options{}, fullReport},
		{"empty.txt.golden", "text", Options{}, emptyReport},
		{"empty.json.golden", "json", Options{}, emptyReport},
		{"empty.sarif.golden", "sarif", Options{}, emptyReport},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			golden(t, c.name, render(t, c.format, c.opts, c.r()))
		})
	}
}

func TestGoldenCatalog(t *testing.T) {
	for _, f := range []string{"text", "markdown", "json"} {
		t.Run(f, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteCatalog(&b, f, rules.Catalog()); err != nil {
				t.Fatal(err)
			}
			golden(t, "catalog."+f+".golden", b.Bytes())
		})
	}
}
