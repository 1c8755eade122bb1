package analyze

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// fakeAnalyzer runs fn; the driver's error paths (a crash, a read past the
// cap) cannot be produced on demand by the real analyzers.
type fakeAnalyzer struct {
	fn func(ctx context.Context, f *File) Result
}

func (fakeAnalyzer) Name() string                                  { return "fake" }
func (fakeAnalyzer) Relevant(*File) bool                           { return true }
func (a fakeAnalyzer) Analyze(ctx context.Context, f *File) Result { return a.fn(ctx, f) }
func (fakeAnalyzer) Finish(context.Context) Result                 { panic("finish boom") }

func TestRunIsolatesPanics(t *testing.T) {
	a := fakeAnalyzer{fn: func(_ context.Context, f *File) Result {
		var s []int
		_ = s[len(f.Path)] // a real runtime panic (index out of range), not a staged one
		return Result{}
	}}
	r := Run(context.Background(), a, &File{Path: "a.py"})
	if len(r.Errors) != 1 || r.Errors[0].Kind != finding.ErrPanic || r.Errors[0].Path != "a.py" ||
		!strings.Contains(r.Errors[0].Message, "fake analyzer") || !r.Errors[0].Kind.Incomplete() {
		t.Fatalf("errors = %+v", r.Errors)
	}
	fr := Finish(context.Background(), a)
	if len(fr.Errors) != 1 || fr.Errors[0].Kind != finding.ErrPanic {
		t.Fatalf("finish errors = %+v", fr.Errors)
	}
}

func TestRunFillsPathsAndReportsReadLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.py")
	if err := os.WriteFile(p, []byte(strings.Repeat("x = 1\n", 2000)), 0o644); err != nil {
		t.Fatal(err)
	}
	a := fakeAnalyzer{fn: func(_ context.Context, f *File) Result {
		var r Result
		r.Add(finding.Finding{RuleID: "MLG102", Line: 1})
		if _, err := f.ReadAll(); err != nil {
			r.Fail(finding.Error{Kind: finding.ErrRead, Message: err.Error()})
		}
		return r
	}}
	// Size claims 10 bytes (a stat can lie: /proc, a growing file); the cap
	// holds at read time.
	f := &File{Path: "big.py", Abs: p, Size: 10, MaxRead: 1000}
	r := Run(context.Background(), a, f)
	if len(r.Findings) != 1 || r.Findings[0].Path != "big.py" {
		t.Fatalf("findings = %+v", r.Findings)
	}
	if len(r.Errors) != 1 || r.Errors[0].Kind != finding.ErrLimit || r.Errors[0].Path != "big.py" {
		t.Fatalf("errors = %+v", r.Errors)
	}
	// Under the cap the same file reads fine.
	g := &File{Path: "big.py", Abs: p, Size: 12000, MaxRead: 20000}
	if r := Run(context.Background(), a, g); len(r.Errors) != 0 || len(g.Content()) != 12000 {
		t.Fatalf("under the cap: %+v, %d bytes", r.Errors, len(g.Content()))
	}
}

func TestRunReportsCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	a := fakeAnalyzer{fn: func(context.Context, *File) Result { cancel(); return Result{} }}
	r := Run(ctx, a, &File{Path: "x"})
	if len(r.Errors) != 1 || r.Errors[0].Kind != finding.ErrCancelled {
		t.Fatalf("cancelled during analysis: %+v", r.Errors)
	}
	called := false
	b := fakeAnalyzer{fn: func(context.Context, *File) Result { called = true; return Result{} }}
	if r := Run(ctx, b, &File{Path: "y"}); called || len(r.Errors) != 1 || r.Errors[0].Kind != finding.ErrCancelled {
		t.Fatalf("cancelled before: called=%v %+v", called, r.Errors)
	}
}
