package rules

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/rules from the catalog")

// docsDir is docs/rules relative to this package.
var docsDir = filepath.Join("..", "..", "docs", "rules")

// TestDocsUpToDate regenerates docs/rules in memory and fails when the
// committed pages differ, are missing, or are left over from a removed rule.
// Run `go test ./internal/rules -update` to rewrite them.
func TestDocsUpToDate(t *testing.T) {
	want := GenerateDocs(Catalog())
	if *update {
		if err := os.MkdirAll(docsDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range want {
			if err := os.WriteFile(filepath.Join(docsDir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir(docsDir)
	if err != nil {
		t.Fatalf("read %s: %v (run go test ./internal/rules -update)", docsDir, err)
	}
	var stale []string
	for _, e := range entries {
		if _, ok := want[e.Name()]; !ok {
			if *update {
				// Only generated pages (ID-name.md) are ours to remove.
				if reID.MatchString(strings.SplitN(e.Name(), "-", 2)[0]) {
					if err := os.Remove(filepath.Join(docsDir, e.Name())); err != nil {
						t.Fatal(err)
					}
					continue
				}
			}
			stale = append(stale, e.Name())
		}
	}
	sort.Strings(stale)
	for _, s := range stale {
		t.Errorf("docs/rules/%s is not generated from the catalog; remove it or run with -update", s)
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(docsDir, name))
		if err != nil {
			t.Errorf("docs/rules/%s: %v (run go test ./internal/rules -update)", name, err)
			continue
		}
		if !bytes.Equal(got, want[name]) {
			t.Errorf("docs/rules/%s is stale; run go test ./internal/rules -update", name)
		}
	}
}

func TestRenderPageContent(t *testing.T) {
	ix := NewIndex()
	r, _ := ix.Lookup("MLG102")
	page := string(RenderMarkdownPage(r))
	for _, want := range []string{
		"# MLG102 unsafe-deserialization", "`strict` (SARIF `error`)", "| Security severity | 9.8 |",
		"[CWE-502](https://cwe.mitre.org/data/definitions/502.html)", "## Why it matters", "## Fix\n\n" + r.Fix,
		"## Do\n\n```python\n", "## Don't\n\n```python\n", "[All rules](README.md)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("MLG102 page lacks %q", want)
		}
	}
	index := string(RenderIndex(Catalog()))
	for _, r := range Catalog() {
		if !strings.Contains(index, "| "+r.ID+" | ["+r.Name+"]("+r.DocFile()+") | "+r.Level.String()+" |") {
			t.Errorf("index lacks a row for %s", r.ID)
		}
	}
}

func TestExampleLang(t *testing.T) {
	cases := map[string]string{
		"import pickle\npickle.load(f)":                         "python",
		"mlflow server --host 0.0.0.0":                          "shell",
		"export MLFLOW_S3_IGNORE_TLS=true":                      "shell",
		"# comment\nmlflow server --host 127.0.0.1":             "shell",
		"env:\n- name: X\n  value: y":                           "yaml",
		"securityContext:\n  privileged: true":                  "yaml",
		"[mlflow]\nadmin_username = a":                          "ini",
		"server {\n    listen 443 ssl;\n}":                      "nginx",
		"add_header X-Frame-Options DENY;":                      "nginx",
		`mlflow.log_params({"a": 1})`:                           "python",
		"ALLOWED = {\"a\"}\ndef f(x):\n    return x":            "python",
		"url = s3.generate_presigned_url(\n    \"get_object\")": "python",
	}
	for in, want := range cases {
		if got := ExampleLang(in); got != want {
			t.Errorf("ExampleLang(%q) = %s, want %s", in, got, want)
		}
	}
}
