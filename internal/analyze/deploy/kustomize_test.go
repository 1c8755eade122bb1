package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/analyzetest"
)

// TestKustomizeRefusesWhatItCannotBuildOffline: a kustomization that names
// a remote base, a path outside the scanned tree or a missing path (which
// Kustomize would try as a remote) is not built: building it would run
// `git clone` or fetch over HTTP. It is reported as unchecked, naming the
// reference.
func TestKustomizeRefusesWhatItCannotBuildOffline(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "kustomization.yaml"), []byte("resources: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	rel, err := filepath.Rel(filepath.Join(root, "x"), outside)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"remote":  "resources:\n  - github.com/example/infra//mlflow?ref=v1.2.0\n",
		"url":     "resources:\n  - https://example.com/mlflow.yaml\n",
		"outside": "resources:\n  - " + filepath.ToSlash(rel) + "\n",
		"missing": "resources:\n  - ../nowhere\n",
		"helm":    "helmCharts:\n  - name: mlflow\n    repo: https://charts.example.com\n",
		"nested":  "resources:\n  - ../remote\n",
	}
	for name, body := range cases {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, errs := analyzetest.Scan(t, newTest(), root)
	got := map[string]string{}
	for _, e := range errs {
		if e.Kind == "unchecked" && strings.Contains(e.Message, "kustomize: not built") {
			got[filepath.Dir(e.Path)] = e.Message
		}
	}
	// "remote" is a base of "nested": it is judged through it, not alone
	for _, name := range []string{"url", "outside", "missing", "helm", "nested"} {
		if got[name] == "" {
			t.Errorf("%s: no unchecked error (errors: %v)", name, errs)
		}
	}
	if !strings.Contains(got["nested"], "github.com/example/infra") {
		t.Errorf("nested: the error should name the remote reference of its base: %q", got["nested"])
	}
}
