package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// These tests drive the real binary's entry point over real Python files,
// analysed by the real tree-sitter based analyzer.

const unsafeLoad = `import pickle

def load(path):
    with open(path, "rb") as f:
        return pickle.load(f)
`

const unpinned = `import mlflow

model = mlflow.pyfunc.load_model("models:/churn/latest")
`

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, body := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

type jsonReport struct {
	Findings []finding.Finding `json:"findings"`
	Errors   []finding.Error   `json:"errors"`
	Summary  struct {
		Files      int  `json:"files_scanned"`
		Findings   int  `json:"findings"`
		Suppressed int  `json:"suppressed"`
		Incomplete bool `json:"incomplete"`
	} `json:"summary"`
}

func scanJSON(t *testing.T, args ...string) (int, jsonReport, string) {
	t.Helper()
	code, out, errs := run(t, append([]string{"scan", "--format", "json"}, args...)...)
	var rep jsonReport
	if code != ExitUsage {
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("scan %v: bad JSON (%v):\n%s\nstderr: %s", args, err, out, errs)
		}
	}
	return code, rep, errs
}

func TestScanExitCodes(t *testing.T) {
	clean := tree(t, map[string]string{"ok.py": "x = 1\n"})
	bad := tree(t, map[string]string{"load.py": unsafeLoad, "serve.py": unpinned})
	warnOnly := tree(t, map[string]string{"serve.py": unpinned})

	cases := []struct {
		name string
		args []string
		want int
	}{
		{"clean", []string{clean}, ExitOK},
		{"strict finding", []string{bad}, ExitFindings},
		{"fail-on never", []string{"--fail-on", "never", bad}, ExitOK},
		{"warning below strict", []string{warnOnly}, ExitOK},
		{"fail-on warning", []string{"--fail-on", "warning", warnOnly}, ExitFindings},
		{"flags after paths", []string{warnOnly, "--fail-on", "advisory"}, ExitFindings},
		{"missing root", []string{filepath.Join(clean, "nope")}, ExitFailed},
		{"missing root beside findings", []string{bad, filepath.Join(clean, "nope")}, ExitFailed},
		{"bad format", []string{"--format", "xml", clean}, ExitUsage},
		{"bad fail-on", []string{"--fail-on", "fatal", clean}, ExitUsage},
		{"bad color", []string{"--color", "sometimes", clean}, ExitUsage},
		{"unknown flag", []string{"--frobnicate", clean}, ExitUsage},
		{"bad size", []string{"--max-file-size", "huge", clean}, ExitUsage},
		{"bad exclude", []string{"--exclude", "a/[b", clean}, ExitUsage},
		{"negative workers", []string{"--workers", "-2", clean}, ExitUsage},
		{"missing config", []string{"--config", filepath.Join(clean, "none.yaml"), clean}, ExitUsage},
		{"missing baseline", []string{"--baseline", filepath.Join(clean, "none.json"), clean}, ExitUsage},
		{"missing manifest", []string{"--verify", filepath.Join(clean, "none.sha256"), clean}, ExitUsage},
		{"help", []string{"-h"}, ExitOK},
	}
	for _, c := range cases {
		code, _, stderr := run(t, append([]string{"scan"}, c.args...)...)
		if code != c.want {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", c.name, code, c.want, stderr)
		}
		if c.want == ExitUsage && c.name != "unknown flag" && !strings.Contains(stderr, "mlflow-guard scan:") {
			t.Errorf("%s: usage error without a clear message: %q", c.name, stderr)
		}
	}
}

func TestScanReportContents(t *testing.T) {
	root := tree(t, map[string]string{"load.py": unsafeLoad, "vendor/x/load.py": unsafeLoad, "node_modules/y.py": unsafeLoad, ".gitignore": "node_modules/\n"})
	code, rep, _ := scanJSON(t, "--exclude", "vendor/**", root)
	if code != ExitFindings || len(rep.Findings) != 1 {
		t.Fatalf("exit %d, findings %+v", code, rep.Findings)
	}
	f := rep.Findings[0]
	if f.RuleID != "MLG102" || f.Rule != "unsafe-deserialization" || f.Path != "load.py" || f.Line != 5 || f.Level != finding.Strict || len(f.Fingerprint) != 32 || len(f.CWE) == 0 {
		t.Errorf("finding = %+v", f)
	}
	// Output to a file: stdout stays empty, a summary line goes to stderr.
	outFile := filepath.Join(t.TempDir(), "r.sarif")
	code, stdout, stderr := run(t, "scan", "--format", "sarif", "--output", outFile, root)
	data, err := os.ReadFile(outFile)
	if code != ExitFindings || stdout != "" || err != nil || !bytes.Contains(data, []byte(`"ruleId": "MLG102"`)) {
		t.Errorf("--output: exit %d stdout %q err %v\n%s", code, stdout, err, data)
	}
	if !strings.Contains(stderr, "2 findings") && !strings.Contains(stderr, "findings") {
		t.Errorf("no summary on stderr: %q", stderr)
	}
}

func TestScanSuppressionsAndConfig(t *testing.T) {
	inline := strings.Replace(unsafeLoad, "pickle.load(f)", "pickle.load(f)  # mlflow-guard: ignore[MLG102] reads our own cache file", 1)
	root := tree(t, map[string]string{
		"load.py":            inline,
		"stale.py":           "x = 1  # mlflow-guard: ignore[MLG103] nothing here\n",
		"legacy/old.py":      unsafeLoad,
		"serve.py":           unpinned,
		"noreason.py":        strings.Replace(unsafeLoad, "pickle.load(f)", "pickle.load(f)  # mlflow-guard: ignore[unsafe-deserialization]", 1),
		".mlflow-guard.yaml": "rules: {MLG104: strict}\nignore:\n  - {rule: MLG102, path: legacy/**, reason: frozen code, expires: 2999-01-01}\n",
	})
	code, rep, stderr := scanJSON(t, root)
	if code != ExitFindings {
		t.Fatalf("exit %d (MLG104 raised to strict must fail): %s", code, stderr)
	}
	got := map[string]finding.Finding{}
	for _, f := range rep.Findings {
		got[f.Path] = f
	}
	if f := got["load.py"]; !f.Suppressed || f.Suppression.Kind != "inline" || f.Suppression.Reason != "reads our own cache file" {
		t.Errorf("inline: %+v", f)
	}
	if f := got["noreason.py"]; !f.Suppressed {
		t.Errorf("an inline suppression without a reason still applies: %+v", f)
	}
	if f := got["legacy/old.py"]; !f.Suppressed || f.Suppression.Kind != "config" || !strings.HasSuffix(f.Suppression.Where, ".mlflow-guard.yaml:3") {
		t.Errorf("config ignore: %+v %+v", f, f.Suppression)
	}
	if f := got["serve.py"]; f.Suppressed || f.Level != finding.Strict {
		t.Errorf("level override: %+v", f)
	}
	kinds := map[string]finding.ErrorKind{}
	for _, e := range rep.Errors {
		kinds[e.Path] = e.Kind
	}
	if kinds["stale.py"] != "unused-suppression" || kinds["noreason.py"] != "suppression" {
		t.Errorf("errors = %+v", rep.Errors)
	}
	if rep.Summary.Incomplete || rep.Summary.Suppressed != 3 {
		t.Errorf("summary = %+v", rep.Summary)
	}

	// A broken config is a usage error listing every problem with its line.
	bad := tree(t, map[string]string{"a.py": "x = 1\n", ".mlflow-guard.yaml": "rules: {MLG999: strict}\nexclude: ['[']\ncolour: red\n"})
	code, _, stderr = run(t, "scan", bad)
	if code != ExitUsage || !strings.Contains(stderr, ".mlflow-guard.yaml:1:") || !strings.Contains(stderr, ".mlflow-guard.yaml:2:") || !strings.Contains(stderr, ".mlflow-guard.yaml:3:") {
		t.Errorf("bad config: exit %d\n%s", code, stderr)
	}
}

func TestScanBaselineRoundTrip(t *testing.T) {
	root := tree(t, map[string]string{"load.py": unsafeLoad})
	base := filepath.Join(t.TempDir(), "baseline.json")
	if code, _, stderr := run(t, "scan", "--format", "json", "--output", base, root); code != ExitFindings {
		t.Fatalf("first run: %d %s", code, stderr)
	}
	// The finding moves down two lines; a new one appears.
	moved := "\n\n" + unsafeLoad + "\ndef again(p):\n    return pickle.loads(p)\n"
	if err := os.WriteFile(filepath.Join(root, "load.py"), []byte(moved), 0o644); err != nil {
		t.Fatal(err)
	}
	code, rep, _ := scanJSON(t, "--baseline", base, root)
	if code != ExitFindings || len(rep.Findings) != 2 {
		t.Fatalf("exit %d findings %+v", code, rep.Findings)
	}
	if !rep.Findings[0].Suppressed || rep.Findings[0].Suppression.Kind != "baseline" || rep.Findings[1].Suppressed {
		t.Errorf("baseline: %+v", rep.Findings)
	}
	if err := os.WriteFile(base, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "scan", "--baseline", base, root); code != ExitUsage || !strings.Contains(stderr, base) {
		t.Errorf("bad baseline: %d %s", code, stderr)
	}
}

func TestScanNeverPrintsSecrets(t *testing.T) {
	const secret = "Sup3rS3cretValue!2024xyz"
	root := tree(t, map[string]string{"train.py": "import mlflow\nmlflow.log_param(\"db_password\", \"" + secret + "\")\n"})
	for _, format := range []string{"text", "json", "sarif"} {
		code, out, errs := run(t, "scan", "--format", format, "--verbose", root)
		if code != ExitFindings {
			t.Errorf("%s: exit %d, want 1 (MLG201): %s", format, code, errs)
		}
		if strings.Contains(out, secret) || strings.Contains(errs, secret) {
			t.Errorf("%s output leaks the secret:\n%s\n%s", format, out, errs)
		}
	}
}

func TestRulesCommand(t *testing.T) {
	code, out, _ := run(t, "rules")
	if code != ExitOK || !strings.Contains(out, "MLG102") || !strings.Contains(out, "MLG410") {
		t.Errorf("text: %d\n%s", code, out)
	}
	code, out, _ = run(t, "rules", "--format", "json", "unsafe-deserialization")
	var rs []map[string]any
	if code != ExitOK || json.Unmarshal([]byte(out), &rs) != nil || len(rs) != 1 || rs[0]["id"] != "MLG102" {
		t.Errorf("json one rule: %d\n%s", code, out)
	}
	if code, out, _ = run(t, "rules", "--format", "markdown"); code != ExitOK || !strings.Contains(out, "| MLG101") {
		t.Errorf("markdown: %d\n%s", code, out)
	}
	if code, _, _ = run(t, "rules", "--format", "yaml"); code != ExitUsage {
		t.Errorf("bad format: %d", code)
	}
	if code, _, _ = run(t, "rules", "MLG000"); code != ExitUsage {
		t.Errorf("unknown rule: %d", code)
	}
}
