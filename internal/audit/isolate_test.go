package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// crashy stands in for an analyzer bug that a hostile artifact triggers:
// no real analyzer is known to panic, so one is made to.
type crashy struct{ finishPanics bool }

func (crashy) Name() string                  { return "crashy" }
func (crashy) Relevant(f *analyze.File) bool { return true }
func (crashy) Analyze(_ context.Context, f *analyze.File) analyze.Result {
	if strings.Contains(string(f.Head), "boom") {
		var idx []int
		_ = idx[len(f.Head)] // an index out of range: a runtime panic, as a real bug would be
	}
	return analyze.Result{Findings: []finding.Finding{{RuleID: "MLG106", Path: f.Path, Message: "judged"}}}
}
func (c crashy) Finish(context.Context) analyze.Result {
	if c.finishPanics {
		panic("finish crashed")
	}
	return analyze.Result{}
}

func TestDeepAnalyzerPanicIsIsolated(t *testing.T) {
	for _, finishPanics := range []bool{false, true} {
		c, err := mlflowapi.New("http://127.0.0.1:1", mlflowapi.Options{})
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(Options{Client: c})
		if err != nil {
			t.Fatal(err)
		}
		a.newAnalyzer = func(analyze.Options) analyze.Analyzer { return crashy{finishPanics: finishPanics} }
		dir := t.TempDir()
		for name, body := range map[string]string{"a.pkl": "boom", "b.pkl": "fine"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		prefix := "registered-models/m/versions/1/artifacts"
		a.analyzeDir(context.Background(), prefix, dir, []string{"a.pkl", "b.pkl"}, nil)

		if !a.res.Incomplete {
			t.Error("a crashed analyzer left the result complete")
		}
		var panics []string
		for _, e := range a.res.Errors {
			if e.Kind == "panic" {
				panics = append(panics, e.Path)
			}
		}
		want := []string{prefix + "/a.pkl"}
		if finishPanics {
			want = append(want, prefix)
		}
		if strings.Join(panics, ",") != strings.Join(want, ",") {
			t.Errorf("finishPanics=%v: panic errors at %v, want %v", finishPanics, panics, want)
		}
		// The other file is still judged, and nothing of the crashed one.
		var judged []string
		for _, f := range a.res.Findings {
			judged = append(judged, f.Path)
		}
		if strings.Join(judged, ",") != prefix+"/b.pkl" {
			t.Errorf("findings at %v, want only %s/b.pkl", judged, prefix)
		}
	}
}

// TestMessagesAreRedacted: whatever field a server-supplied secret comes
// in through, add and fail print it masked.
func TestMessagesAreRedacted(t *testing.T) {
	c, _ := mlflowapi.New("http://127.0.0.1:1", mlflowapi.Options{})
	a, err := New(Options{Client: c})
	if err != nil {
		t.Fatal(err)
	}
	const tok = "ghp_hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES"
	a.add(finding.Finding{RuleID: "MLG108", Path: "registered-models/" + tok + "/versions/1/MLmodel",
		Message: `flavor python_function loads through loader_module "` + tok + `"`})
	a.fail(finding.Error{Path: "registered-models/" + tok, Kind: "read", Message: "GET /x?name=" + tok + ": HTTP 500"}, true)
	for _, s := range []string{a.res.Findings[0].Path, a.res.Findings[0].Message, a.res.Errors[0].Path, a.res.Errors[0].Message} {
		if strings.Contains(s, tok[4:]) || !strings.Contains(s, "ghp_****") {
			t.Errorf("not redacted: %s", s)
		}
	}
}
