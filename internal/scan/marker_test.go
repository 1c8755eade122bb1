package scan

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// TestMarkerOnlyInComments: a suppression marker inside a string literal
// (single-line or a docstring, in Python and in YAML/shell) suppresses
// nothing and is reported with its line; ignore[] with no rule suppresses
// nothing and is reported; a real comment after a string still works.
func TestMarkerOnlyInComments(t *testing.T) {
	root := t.TempDir()
	write(t, root, "app.py", strings.Join([]string{
		`x = BAD("# mlflow-guard: ignore[MLG102] hidden in a string")`, // 1 reported + error
		`y = BAD('a # mlflow-guard: ignore[MLG102] also a string')`,    // 2 reported + error
		`doc = """`, // 3
		`# mlflow-guard: ignore[MLG102] inside a docstring`, // 4 error
		`BAD"""`, // 5 reported (the docstring's last line)
		`z = BAD("it's") # mlflow-guard: ignore[MLG102] a real comment`,      // 6 suppressed
		`w = BAD("\" # mlflow-guard: ignore[MLG102] escaped quote, string")`, // 7 reported + error
		`v = BAD  # mlflow-guard: ignore[] nothing named`,                    // 8 reported + error
		`u = BAD  # mlflow-guard: ignore[ , ] nothing named`,                 // 9 reported + error
	}, "\n")+"\n")
	write(t, root, "deploy.yaml", strings.Join([]string{
		`cmd: "BAD # mlflow-guard: ignore[MLG102] quoted value"`, // 1 reported + error
		`note: it's BAD  # mlflow-guard: ignore[MLG102] plain`,   // 2 suppressed: the apostrophe opens nothing
	}, "\n")+"\n")
	res, err := Run(context.Background(), Options{Roots: []string{root}, Analyzers: []analyze.Analyzer{&lineRule{}}, Redact: redactFake})
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]bool{}
	for _, f := range res.Findings {
		state[f.Path+":"+strconv.Itoa(f.Line)] = f.Suppressed
	}
	for loc, sup := range map[string]bool{"app.py:1": false, "app.py:2": false, "app.py:5": false, "app.py:6": true,
		"app.py:7": false, "app.py:8": false, "app.py:9": false, "deploy.yaml:1": false, "deploy.yaml:2": true} {
		got, ok := state[loc]
		if !ok || got != sup {
			t.Errorf("%s: present=%v suppressed=%v, want suppressed=%v", loc, ok, got, sup)
		}
	}
	errs := errorsOf(res, finding.ErrSuppression)
	for _, loc := range []string{"app.py:1", "app.py:2", "app.py:4", "app.py:7", "deploy.yaml:1"} {
		if !strings.Contains(errs[loc], "string literal") {
			t.Errorf("%s: want a string-literal error, got %q", loc, errs[loc])
		}
	}
	for _, loc := range []string{"app.py:8", "app.py:9"} {
		if !strings.Contains(errs[loc], "names no rule") {
			t.Errorf("%s: want an ignore[] error, got %q", loc, errs[loc])
		}
	}
	if errs["app.py:6"] != "" || errs["deploy.yaml:2"] != "" {
		t.Errorf("a real comment reported: %v", errs)
	}
}
