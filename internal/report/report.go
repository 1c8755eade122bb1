// Package report turns a scan or audit result into text, JSON or SARIF. All
// writers implement Writer and see the same Report.
package report

import (
	"fmt"
	"io"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// Tool describes the producer of a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Command is "scan" or "audit".
	Command string `json:"command"`
}

// Summary counts findings. Suppressed findings are counted apart.
type Summary struct {
	Files      int            `json:"files_scanned"`
	Findings   int            `json:"findings"`
	Suppressed int            `json:"suppressed"`
	ByLevel    map[string]int `json:"by_level"`
	ByRule     map[string]int `json:"by_rule"`
	Errors     int            `json:"errors"`
	// Ignored counts files a .gitignore left out (scan only).
	Ignored int `json:"files_ignored"`
	// Excluded counts files and directories the user's --exclude globs (or
	// the config's) left out, and files over a --max-file-size the user set.
	Excluded int `json:"files_excluded"`
	// Incomplete is true when the scan or audit could not look at everything
	// it was asked to (server down, unreadable input, an analysis that
	// stopped early, an interrupt): the findings are partial.
	Incomplete bool `json:"incomplete"`
}

// Report is the whole result of one run.
type Report struct {
	Tool     Tool              `json:"tool"`
	Findings []finding.Finding `json:"findings"`
	Errors   []finding.Error   `json:"errors"`
	Summary  Summary           `json:"summary"`
	// Rules is the catalog, for writers that describe rules (SARIF, text fix
	// lines). Not serialised in JSON.
	Rules []rules.Rule `json:"-"`
	// Root is the scanned root or the audited server URL (for SARIF
	// originalUriBaseIds). Not serialised in JSON.
	Root string `json:"-"`
}

// Writer renders a report.
type Writer interface {
	Write(w io.Writer, r *Report) error
}

// Formats lists the accepted --format values.
var Formats = []string{"text", "json", "sarif"}

// FailOn parses a --fail-on value. "never" returns LevelNone with never=true.
func FailOn(s string) (level finding.Level, never bool, err error) {
	if s == "never" {
		return finding.LevelNone, true, nil
	}
	l, err := finding.ParseLevel(s)
	if err != nil {
		return finding.LevelNone, false, fmt.Errorf("--fail-on: %w (or never)", err)
	}
	return l, false, nil
}

// Failing counts unsuppressed findings at or above level.
func (r *Report) Failing(level finding.Level) int {
	n := 0
	for _, f := range r.Findings {
		if !f.Suppressed && f.Level >= level {
			n++
		}
	}
	return n
}
