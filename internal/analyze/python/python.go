// Package python is a placeholder until its analyzer lands; it accepts no file.
package python

import (
	"context"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
)

// Analyzer is the python analyzer.
type Analyzer struct{ opts analyze.Options }

// New builds the analyzer for one scan.
func New(opts analyze.Options) *Analyzer { return &Analyzer{opts: opts} }

var _ analyze.Analyzer = (*Analyzer)(nil)

func (a *Analyzer) Name() string                  { return "python" }
func (a *Analyzer) Relevant(f *analyze.File) bool { return false }
func (a *Analyzer) Analyze(ctx context.Context, f *analyze.File) analyze.Result {
	return analyze.Result{}
}
