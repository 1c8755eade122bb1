package analyze

import (
	"context"
	"fmt"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// Run is the one driver every caller uses to run an analyzer on a file
// (scan, audit --deep, the analyzetest harness). It does what each caller
// would otherwise repeat, and what is easy to forget:
//
//   - a panic in the analyzer is recovered and becomes an error of kind
//     finding.ErrPanic naming the analyzer; the other files go on;
//   - findings and errors without a path get f.Path;
//   - a ReadAll that hit f.MaxRead is reported as finding.ErrLimit (not as
//     an unreadable file);
//   - a context cancelled before or during the analysis adds an error of
//     kind finding.ErrCancelled, since the analyzer may have stopped early.
//
// Every error kind above makes the report incomplete (exit 3). Run does not
// call Relevant: the caller decides which files an analyzer sees.
func Run(ctx context.Context, a Analyzer, f *File) (r Result) {
	if err := ctx.Err(); err != nil {
		return Result{Errors: []finding.Error{{Path: f.Path, Kind: finding.ErrCancelled,
			Message: fmt.Sprintf("%s analyzer not run: %v", a.Name(), err)}}}
	}
	defer func() {
		if p := recover(); p != nil {
			r = Result{Errors: []finding.Error{{Path: f.Path, Kind: finding.ErrPanic,
				Message: fmt.Sprintf("%s analyzer crashed on this file (%v); it was not fully analyzed", a.Name(), p)}}}
		}
	}()
	r = a.Analyze(ctx, f)
	for i := range r.Findings {
		if r.Findings[i].Path == "" {
			r.Findings[i].Path = f.Path
		}
	}
	for i := range r.Errors {
		e := &r.Errors[i]
		if e.Path == "" {
			e.Path = f.Path
		}
		if f.tooLarge && e.Kind == finding.ErrRead && e.Path == f.Path {
			e.Kind = finding.ErrLimit
		}
	}
	if f.tooLarge && !hasKind(r.Errors, f.Path, finding.ErrLimit) {
		r.Errors = append(r.Errors, finding.Error{Path: f.Path, Kind: finding.ErrLimit,
			Message: fmt.Sprintf("%s analyzer: file is over the %d-byte read limit; not fully analyzed", a.Name(), f.readLimit())})
	}
	if err := ctx.Err(); err != nil {
		r.Errors = append(r.Errors, finding.Error{Path: f.Path, Kind: finding.ErrCancelled,
			Message: fmt.Sprintf("%s analyzer interrupted: %v", a.Name(), err)})
	}
	return r
}

// Finish runs a Finisher's cross-file pass with the same panic isolation as
// Run; an analyzer that is not a Finisher returns an empty Result.
func Finish(ctx context.Context, a Analyzer) (r Result) {
	fin, ok := a.(Finisher)
	if !ok {
		return Result{}
	}
	defer func() {
		if p := recover(); p != nil {
			r = Result{Errors: []finding.Error{{Kind: finding.ErrPanic,
				Message: fmt.Sprintf("%s analyzer crashed in its cross-file pass (%v); cross-file checks are missing", a.Name(), p)}}}
		}
	}()
	return fin.Finish(ctx)
}

func (f *File) readLimit() int64 {
	if f.MaxRead > 0 {
		return f.MaxRead
	}
	return DefaultReadLimit
}

func hasKind(es []finding.Error, path string, k finding.ErrorKind) bool {
	for _, e := range es {
		if e.Path == path && e.Kind == k {
			return true
		}
	}
	return false
}
