package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	modelscan "github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// datagate holds what the registration gate and upload scanning share:
// the rule catalog (to tell strict findings) and a secrets detector (to
// redact what the model analyzer quotes). Both are immutable.
type datagate struct {
	rules *rules.Index
	det   *secrets.Detector
	log   *slog.Logger
}

func newDatagate(log *slog.Logger) *datagate {
	return &datagate{rules: rules.NewIndex(), det: secrets.New(), log: log}
}

// blockOrder ranks the model rules for the one rule a denial names: the
// worst first. MLG107 blocks too: a callable on neither list cannot be
// shown safe.
var blockOrder = []string{"MLG106", "MLG109", "MLG110", "MLG111", "MLG107"}

// modelVerdict is the model analyzer's word on a set of files.
type modelVerdict struct {
	Findings []finding.Finding
	Errors   []finding.Error
}

// Blocking returns the rule that refuses these files, or "" when none
// does: any strict finding, any MLG107, and any analysis error (an error
// means part of a file was not judged: MLG111, fail closed).
func (d *datagate) Blocking(v modelVerdict) string {
	seen := map[string]bool{}
	for _, f := range v.Findings {
		if f.RuleID == "MLG107" {
			seen[f.RuleID] = true
		}
		if r, ok := d.rules.Lookup(f.RuleID); ok && r.Level == finding.Strict {
			seen[f.RuleID] = true
		}
	}
	if len(v.Errors) > 0 {
		seen["MLG111"] = true
	}
	for _, r := range blockOrder {
		if seen[r] {
			return r
		}
	}
	for _, f := range v.Findings { // a strict rule outside the model range
		if seen[f.RuleID] {
			return f.RuleID
		}
	}
	return ""
}

// Summary is the short, redacted list of findings and errors kept in the
// mlflow-guard.findings tag and the audit log ("none" when clean).
func (d *datagate) Summary(v modelVerdict, max int) string {
	var parts []string
	for _, f := range v.Findings {
		where := f.Path
		if f.Member != "" {
			where += "!" + f.Member
		}
		parts = append(parts, fmt.Sprintf("%s %s: %s", f.RuleID, where, truncate(f.Message, 160)))
	}
	for _, e := range v.Errors {
		parts = append(parts, fmt.Sprintf("MLG111 %s: %s (%s)", e.Path, truncate(e.Message, 160), e.Kind))
	}
	if len(parts) == 0 {
		return "none"
	}
	sort.Strings(parts)
	return truncate(d.det.RedactAll(strings.Join(parts, "; ")), max)
}

// judgeFile runs the model analyzer on one spooled file if the analyzer
// finds it relevant by content (as scan does). rel names it in findings.
func judgeFile(ctx context.Context, an *modelscan.Analyzer, root, rel string) (analyze.Result, bool, error) {
	abs := filepath.Join(root, filepath.FromSlash(rel))
	fh, err := os.Open(abs)
	if err != nil {
		return analyze.Result{}, false, fmt.Errorf("%s: %w", rel, err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return analyze.Result{}, false, fmt.Errorf("%s: %w", rel, err)
	}
	head := make([]byte, analyze.HeadSize)
	n, err := io.ReadFull(fh, head)
	fh.Close()
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return analyze.Result{}, false, fmt.Errorf("%s: %w", rel, err)
	}
	f := &analyze.File{Path: rel, Abs: abs, Size: st.Size(), Head: head[:n], Root: root}
	if !an.Relevant(f) {
		return analyze.Result{}, false, nil
	}
	return analyze.Run(ctx, an, f), true, nil
}

func newModelAnalyzer(log *slog.Logger) *modelscan.Analyzer {
	return modelscan.New(analyze.Options{Logger: log})
}
