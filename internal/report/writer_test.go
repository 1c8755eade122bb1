package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

func TestNewFormats(t *testing.T) {
	for _, f := range Formats {
		w, err := New(f, Options{})
		if err != nil || w == nil {
			t.Errorf("New(%q) = %v, %v", f, w, err)
		}
	}
	if w, err := New(" SARIF ", Options{}); err != nil || w == nil {
		t.Errorf("format names should be case- and space-insensitive: %v", err)
	}
	_, err := New("xml", Options{})
	if err == nil {
		t.Fatal("New(xml) succeeded")
	}
	for _, f := range Formats {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not list %q", err, f)
		}
	}
}

func TestTextLayout(t *testing.T) {
	out := string(render(t, "text", Options{}, fullReport()))
	for _, want := range []string{
		"src/serve.py\n  7:9    strict   MLG102 unsafe-deserialization  pickle.load on a downloaded artifact",
		"\n         fix: Load with a format that cannot run code",
		"models/fraud/model.zip!model/data.pkl\n  -  strict   MLG106 malicious-pickle",
		"errors:\n  models/huge.pt!archive/data.pkl: limit: ",
		"INCOMPLETE",
		"8 findings (6 strict, 1 warning, 1 advisory), 2 suppressed, 12 files, 2 errors\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q\n%s", want, out)
		}
	}
	// Suppressed findings are counted, not listed.
	for _, hidden := range []string{"db_password", "sqlite:///mlflow.db"} {
		if strings.Contains(out, hidden) {
			t.Errorf("suppressed finding %q is listed", hidden)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("ANSI escapes without Options.Color")
	}
	colored := string(render(t, "text", Options{Color: true}, fullReport()))
	if !strings.Contains(colored, ansiRed+"strict  "+ansiReset) || !strings.Contains(colored, ansiYellow+"warning "+ansiReset) {
		t.Error("Options.Color did not colour levels")
	}
	clean := emptyReport()
	if got := string(render(t, "text", Options{}, clean)); got != "0 findings (0 strict, 0 warning, 0 advisory), 0 suppressed, 3 files, 0 errors\n" {
		t.Errorf("clean report = %q", got)
	}
}

// A hostile message must not inject terminal escapes or fake report lines.
func TestTextSanitisesMessages(t *testing.T) {
	r := emptyReport()
	r.Findings = []finding.Finding{{RuleID: "MLG203", Path: "a.py", Line: 1,
		Message: "bad\x1b[2J\nMLG999 fake-finding\r\u009b31m"}}
	out := string(render(t, "text", Options{}, r))
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\r") || strings.Contains(out, "\u009b") || strings.Contains(out, "\nMLG999") {
		t.Errorf("control characters reached the terminal: %q", out)
	}
}

// Messages arrive already redacted by the scanner; writers pass them through
// unchanged and add nothing else, and never print the raw Snippet.
func TestSecretsPassThroughOnlyAsGiven(t *testing.T) {
	const token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"
	const snippet = "SNIPPET-MUST-NOT-APPEAR"
	r := emptyReport()
	r.Findings = []finding.Finding{{RuleID: "MLG201", Path: "a.py", Line: 2, Column: 1,
		Message: "token " + token + " in log_param", Snippet: snippet}}
	for _, f := range Formats {
		out := string(render(t, f, Options{}, r))
		if !strings.Contains(out, "token "+token+" in log_param") {
			t.Errorf("%s: message was altered", f)
		}
		if strings.Count(out, token) != 1 {
			t.Errorf("%s: token appears %d times; writers must not repeat message content", f, strings.Count(out, token))
		}
		if strings.Contains(out, snippet) {
			t.Errorf("%s: raw snippet printed", f)
		}
	}
}

// The summary is recounted from the lists, so every format agrees even when
// the producer's counts are stale.
func TestSummaryRecounted(t *testing.T) {
	r := fullReport()
	r.Summary.Findings = 99
	r.Summary.ByLevel = map[string]int{"strict": 42}
	var doc struct{ Summary Summary }
	if err := json.Unmarshal(render(t, "json", Options{}, r), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Summary
	if s.Findings != 8 || s.Suppressed != 2 || s.Errors != 2 || s.Files != 12 || !s.Incomplete {
		t.Errorf("summary = %+v", s)
	}
	if s.ByLevel["strict"] != 6 || s.ByLevel["warning"] != 1 || s.ByLevel["advisory"] != 1 {
		t.Errorf("by_level = %v", s.ByLevel)
	}
	if s.ByRule["MLG201"] != 1 || s.ByRule["MLG405"] != 0 {
		t.Errorf("by_rule = %v (suppressed findings must not count)", s.ByRule)
	}
	if r.Failing(finding.Strict) != 6 {
		t.Errorf("Failing(strict) = %d", r.Failing(finding.Strict))
	}
}

// Writers must not reorder or fill in the caller's report.
func TestWritersDoNotMutate(t *testing.T) {
	r := fullReport()
	before, _ := json.Marshal(r)
	for _, f := range Formats {
		render(t, f, Options{}, r)
	}
	after, _ := json.Marshal(r)
	if !bytes.Equal(before, after) {
		t.Error("a writer changed the report it was given")
	}
}

func TestCatalogFormats(t *testing.T) {
	cat := rules.Catalog()
	var b bytes.Buffer
	if err := WriteCatalog(&b, "json", cat); err != nil {
		t.Fatal(err)
	}
	var entries []map[string]any
	if err := json.Unmarshal(b.Bytes(), &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(cat) {
		t.Fatalf("%d entries for %d rules", len(entries), len(cat))
	}
	for i, e := range entries {
		for _, k := range []string{"id", "name", "level", "security_severity", "cwe", "summary", "description", "fix", "do", "dont", "enforced_in", "help_uri"} {
			if v, ok := e[k]; !ok || v == "" || v == nil {
				t.Errorf("entry %d (%v) lacks %s", i, e["id"], k)
			}
		}
	}
	b.Reset()
	if err := WriteCatalog(&b, "text", cat); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != len(cat)+1 || !strings.HasPrefix(lines[0], "ID") || !strings.HasPrefix(lines[1], "MLG101  pickle-model-serialization") {
		t.Errorf("text catalog:\n%s", b.String())
	}
	b.Reset()
	if err := WriteCatalog(&b, "markdown", cat); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n| MLG"); n != len(cat) {
		t.Errorf("markdown catalog has %d rule rows", n)
	}
	err := WriteCatalog(&b, "yaml", cat)
	if err == nil || !strings.Contains(err.Error(), "text, markdown, json") {
		t.Errorf("unknown catalog format error = %v", err)
	}
}

// TestTextNotesApartFromErrors: kinds that do not change the exit code
// (unused suppressions, files the user left out, malformed suppressions)
// are notes, listed and counted apart from the errors; counts are singular
// for one.
func TestTextNotesApartFromErrors(t *testing.T) {
	r := emptyReport()
	r.Findings = []finding.Finding{{RuleID: "MLG102", Path: "a.py", Line: 3, Message: "pickle.load"}}
	r.Errors = []finding.Error{
		{Path: "a.py", Line: 9, Kind: finding.ErrUnusedSuppression, Message: "inline suppression ignore[MLG101] matched no finding; remove it"},
		{Path: "big.bin", Kind: finding.ErrExcluded, Message: "larger than --max-file-size"},
	}
	out := string(render(t, "text", Options{}, r))
	for _, want := range []string{
		"\nnotes:\n  a.py:9: unused-suppression: ",
		"  big.bin: excluded: ",
		"1 finding (1 strict, 0 warning, 0 advisory), 0 suppressed, 3 files, 0 errors, 2 notes\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "errors:") {
		t.Errorf("notes listed as errors:\n%s", out)
	}
	if got := SummaryLine(r); got != "1 finding (1 strict, 0 warning, 0 advisory), 0 suppressed, 3 files, 0 errors, 2 notes" {
		t.Errorf("SummaryLine = %q", got)
	}
	r.Errors = append(r.Errors, finding.Error{Path: "b.py", Kind: finding.ErrParse, Message: "syntax error"})
	out = string(render(t, "text", Options{}, r))
	if !strings.Contains(out, "errors:\n  b.py: parse: syntax error\n\nnotes:\n") || !strings.Contains(out, ", 1 error, 2 notes\n") {
		t.Errorf("one error and two notes:\n%s", out)
	}
}

// TestFixChosenPerFinding: the fix printed follows the finding's context
// (set by the analyzer) or its file kind, not one text per rule.
func TestFixChosenPerFinding(t *testing.T) {
	r := emptyReport()
	r.Findings = []finding.Finding{
		{RuleID: "MLG410", Path: "Dockerfile", Line: 1, Message: "runs as root"},
		{RuleID: "MLG410", Path: "k8s/mlflow.yaml", Line: 3, Message: "no securityContext"},
		{RuleID: "MLG404", Path: "auth/basic_auth.ini", Line: 2, Message: "default_permission = EDIT", Context: rules.CtxDefaultPermission},
	}
	out := string(render(t, "text", Options{}, r))
	ix := rules.NewIndex()
	r410, _ := ix.Lookup("MLG410")
	r404, _ := ix.Lookup("MLG404")
	for _, want := range []string{
		"fix: " + r410.FixFor[rules.CtxDockerfile],
		"fix: " + r410.FixFor[rules.CtxKubernetes],
		"fix: " + r404.FixFor[rules.CtxDefaultPermission],
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q\n%s", want, out)
		}
	}
}
