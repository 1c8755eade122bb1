package triage

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

var now = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)

func cfg(t *testing.T, y string) *config.Config {
	t.Helper()
	c, err := config.Parse(".mlflow-guard.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestApplyFillsLevelsAndDropsDisabled(t *testing.T) {
	c := cfg(t, "rules: {MLG104: {level: strict}, MLG102: advisory}\ndisable: [environment-dump]\n")
	in := []finding.Finding{
		{RuleID: "MLG104", Path: "b.py", Line: 3, Snippet: "load('models:/m/latest')"},
		{RuleID: "MLG102", Path: "a.py", Line: 9, Snippet: "pickle.load(f)"},
		{RuleID: "MLG202", Path: "a.py", Line: 1, Snippet: "log_params(os.environ)"},
		{RuleID: "MLG201", Path: "a.py", Line: 2, Level: finding.Warning, Snippet: "x"},
		{RuleID: "MLG999", Path: "c.py", Line: 1},
	}
	out, errs := Apply(in, rules.NewIndex(), c, nil, now)
	if len(out) != 4 {
		t.Fatalf("out = %+v", out)
	}
	// Sorted by path then line; MLG202 dropped.
	if out[0].RuleID != "MLG201" || out[1].RuleID != "MLG102" || out[2].RuleID != "MLG104" || out[3].RuleID != "MLG999" {
		t.Fatalf("order = %v %v %v %v", out[0].RuleID, out[1].RuleID, out[2].RuleID, out[3].RuleID)
	}
	if out[0].Level != finding.Warning {
		t.Errorf("analyzer-lowered level lost: %v", out[0].Level)
	}
	if out[1].Level != finding.Advisory || out[1].Rule != "unsafe-deserialization" || out[1].Fix == "" || len(out[1].CWE) == 0 {
		t.Errorf("MLG102 = %+v", out[1])
	}
	if out[2].Level != finding.Strict {
		t.Errorf("MLG104 level = %v, want strict from config", out[2].Level)
	}
	if out[3].Level != finding.Strict || len(errs) != 1 || errs[0].Kind != finding.ErrUnknownRule {
		t.Errorf("unknown rule: %+v %+v", out[3], errs)
	}
	out, _ = Apply(in, nil, nil, nil, now) // defaults without a config
	if len(out) != 5 || out[0].RuleID != "MLG202" || out[0].Level != finding.Strict {
		t.Errorf("nil config: %+v", out)
	}
}

func TestFingerprintsSurviveMovedLines(t *testing.T) {
	before := []finding.Finding{
		{RuleID: "MLG102", Path: "a.py", Line: 10, Snippet: "pickle.load(f)"},
		{RuleID: "MLG102", Path: "a.py", Line: 20, Snippet: "pickle.load(f)"},
		{RuleID: "MLG102", Path: "a.py", Line: 30, Snippet: "joblib.load(p)"},
	}
	after := []finding.Finding{
		{RuleID: "MLG102", Path: "a.py", Line: 42, Snippet: "joblib.load(p)"},
		{RuleID: "MLG102", Path: "a.py", Line: 14, Snippet: "pickle.load(f)"},
		{RuleID: "MLG102", Path: "a.py", Line: 25, Snippet: "pickle.load(f)   "},
	}
	b, _ := Apply(before, nil, nil, nil, now)
	a, _ := Apply(after, nil, nil, nil, now)
	fps := func(fs []finding.Finding) map[string]bool {
		m := map[string]bool{}
		for _, f := range fs {
			m[f.Fingerprint] = true
		}
		return m
	}
	fb, fa := fps(b), fps(a)
	if len(fb) != 3 {
		t.Fatalf("identical lines must get distinct fingerprints: %v", fb)
	}
	for fp := range fb {
		if !fa[fp] {
			t.Errorf("fingerprint %s lost after lines moved", fp)
		}
	}
	other, _ := Apply([]finding.Finding{{RuleID: "MLG102", Path: "b.py", Line: 10, Snippet: "pickle.load(f)"}}, nil, nil, nil, now)
	if fb[other[0].Fingerprint] {
		t.Error("a different path must change the fingerprint")
	}
}

func TestConfigIgnoresWithExpiry(t *testing.T) {
	c := cfg(t, `ignore:
  - {rule: MLG102, path: "legacy/**", reason: only loads our own files, expires: 2027-12-31}
  - {rule: MLG104, path: "notebooks/**", reason: exploratory, expires: 2027-01-31}
  - {rule: MLG201, path: "nowhere/**", reason: stale entry}
  - {path: "tests/fixtures/**", reason: deliberate bad examples}
`)
	in := []finding.Finding{
		{RuleID: "MLG102", Path: "legacy/x/load.py", Line: 1, Snippet: "a"},
		{RuleID: "MLG102", Path: "src/load.py", Line: 1, Snippet: "a"},
		{RuleID: "MLG104", Path: "notebooks/n.py", Line: 1, Snippet: "b"},
		{RuleID: "MLG302", Path: "tests/fixtures/e.py", Line: 1, Snippet: "c"},
		{RuleID: "MLG102", Path: "tests/fixtures/e.py", Line: 2, Snippet: "d", Suppressed: true,
			Suppression: &finding.Suppression{Kind: "inline", Reason: "r", Where: "tests/fixtures/e.py:2"}},
	}
	out, errs := Apply(in, nil, c, nil, now)
	byPath := map[string]finding.Finding{}
	for _, f := range out {
		byPath[f.Path+f.RuleID] = f
	}
	if f := byPath["legacy/x/load.pyMLG102"]; !f.Suppressed || f.Suppression.Kind != "config" || f.Suppression.Where != ".mlflow-guard.yaml:2" || f.Suppression.Reason != "only loads our own files" {
		t.Errorf("legacy: %+v %+v", f, f.Suppression)
	}
	if f := byPath["src/load.pyMLG102"]; f.Suppressed {
		t.Error("ignore applied outside its path")
	}
	if f := byPath["notebooks/n.pyMLG104"]; f.Suppressed {
		t.Error("an expired entry must not suppress")
	}
	if f := byPath["tests/fixtures/e.pyMLG302"]; !f.Suppressed {
		t.Error("an entry without a rule covers every rule on its path")
	}
	if f := byPath["tests/fixtures/e.pyMLG102"]; f.Suppression.Kind != "inline" {
		t.Error("an inline suppression must be kept")
	}
	got := map[int]string{}
	for _, e := range errs {
		got[e.Line] = string(e.Kind) + ": " + e.Message
	}
	if !strings.HasPrefix(got[3], "config: ") || !strings.Contains(got[3], "expired on 2027-01-31") {
		t.Errorf("expired entry not reported: %v", got)
	}
	if !strings.HasPrefix(got[4], "unused-suppression: ") {
		t.Errorf("unused entry not reported: %v", got)
	}
	if len(errs) != 2 {
		t.Errorf("errs = %+v", errs)
	}
}

func TestBaseline(t *testing.T) {
	in := []finding.Finding{
		{RuleID: "MLG102", Path: "a.py", Line: 1, Snippet: "pickle.load(f)"},
		{RuleID: "MLG103", Path: "a.py", Line: 2, Snippet: "load_model(uri)"},
	}
	first, _ := Apply(in, nil, nil, nil, now)
	// A real earlier report: only the first finding existed then.
	data, err := json.Marshal(map[string]any{"tool": map[string]string{"name": "mlflow-guard"}, "findings": first[:1], "errors": []any{}, "summary": map[string]int{}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "baseline.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBaseline(p)
	if err != nil || b.Len() != 1 {
		t.Fatalf("LoadBaseline: %v", err)
	}
	moved := []finding.Finding{
		{RuleID: "MLG102", Path: "a.py", Line: 7, Snippet: "pickle.load(f)"},
		{RuleID: "MLG103", Path: "a.py", Line: 8, Snippet: "load_model(uri)"},
	}
	out, _ := Apply(moved, nil, nil, b, now)
	if !out[0].Suppressed || out[0].Suppression.Kind != "baseline" || out[0].Suppression.Where != p {
		t.Errorf("baseline finding not suppressed: %+v", out[0])
	}
	if out[1].Suppressed {
		t.Error("a new finding must not be suppressed by the baseline")
	}
	s := Summarize(out, nil, 3)
	if s.Findings != 1 || s.Suppressed != 1 || s.ByLevel["strict"] != 1 || s.Files != 3 || s.Incomplete {
		t.Errorf("summary = %+v", s)
	}
	for _, k := range []finding.ErrorKind{finding.ErrRead, finding.ErrParse, finding.ErrLimit, finding.ErrSkipped, finding.ErrUnchecked, finding.ErrPanic, finding.ErrCancelled} {
		if !Summarize(out, []finding.Error{{Kind: k}}, 3).Incomplete {
			t.Errorf("a %s error does not make the report incomplete", k)
		}
	}
	for _, k := range []finding.ErrorKind{finding.ErrExcluded, finding.ErrConfig, finding.ErrSuppression, finding.ErrUnusedSuppression} {
		if Summarize(out, []finding.Error{{Kind: k}}, 3).Incomplete {
			t.Errorf("a %s error makes the report incomplete", k)
		}
	}
	for name, body := range map[string]string{"bad.json": "{", "nolist.json": `{"tool":{}}`, "nofp.json": `{"findings":[{"rule_id":"MLG102"}]}`} {
		q := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(q, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadBaseline(q); err == nil || !strings.Contains(err.Error(), q) {
			t.Errorf("%s: want an error naming the file, got %v", name, err)
		}
	}
}

func FuzzParseBaseline(f *testing.F) {
	f.Add([]byte(`{"findings":[{"fingerprint":"abc"}]}`))
	f.Add([]byte(`{"findings":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBaseline("b.json", data)
		if err == nil && b == nil {
			t.Fatal("nil baseline without error")
		}
	})
}
