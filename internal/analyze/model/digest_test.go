package model_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
)

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDigestVerify(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "MLmodel"), "flavors: {}\n")
	write(t, filepath.Join(dir, "model.skops"), "weights")
	write(t, filepath.Join(dir, "sub", "conda.yaml"), "name: x\n")
	write(t, filepath.Join(dir, "gone.txt"), "x")
	sums, err := model.Digest(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := model.WriteManifest(&buf, sums); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(t.TempDir(), "MANIFEST")
	write(t, manifest, buf.String())
	if !strings.Contains(buf.String(), "  sub/conda.yaml\n") {
		t.Fatalf("manifest lacks nested file:\n%s", buf.String())
	}

	// Untouched: no findings.
	fs, es := analyzetest.Scan(t, model.New(analyze.Options{VerifyManifest: manifest}), dir)
	for _, f := range fs {
		if f.RuleID == "MLG110" {
			t.Fatalf("clean dir reported: %+v", f)
		}
	}
	if len(es) != 0 {
		t.Fatal(es)
	}

	write(t, filepath.Join(dir, "model.skops"), "weightz")
	write(t, filepath.Join(dir, "extra.pkl"), "new")
	if err := os.Remove(filepath.Join(dir, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	fs, _ = analyzetest.Scan(t, model.New(analyze.Options{VerifyManifest: manifest}), dir)
	var got []string
	for _, f := range fs {
		if f.RuleID == "MLG110" {
			got = append(got, f.Path+": "+f.Message)
		}
	}
	sort.Strings(got)
	want := []string{
		"extra.pkl: not listed in the manifest MANIFEST",
		"gone.txt: listed in the manifest MANIFEST but missing",
		"model.skops: SHA-256 differs from the manifest MANIFEST",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestManifestErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "M")
	write(t, p, "# header\nnot a line\n")
	if _, err := model.ReadManifest(p); err == nil || !strings.Contains(err.Error(), p+":2") {
		t.Fatalf("want error naming %s:2, got %v", p, err)
	}
	_, es := analyzetest.Scan(t, model.New(analyze.Options{VerifyManifest: p}), t.TempDir())
	if len(es) != 1 || es[0].Kind != "config" {
		t.Fatalf("want one config error, got %v", es)
	}
}
