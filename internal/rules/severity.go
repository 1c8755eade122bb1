package rules

import (
	"strconv"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// ProjectURL is the project's home page; rule help links point below it.
// Defined once so the SARIF writer and the docs agree.
const ProjectURL = "https://github.com/mlflow-guard/mlflow-guard"

// DocsURL is the base of the rendered rule pages (docs/rules in the repo).
const DocsURL = ProjectURL + "/blob/main/docs/rules/"

// DocFile is the file name of the rule's page under docs/rules.
func (r Rule) DocFile() string { return r.ID + "-" + r.Name + ".md" }

// HelpURL is the absolute link to the rule's page.
func (r Rule) HelpURL() string { return DocsURL + r.DocFile() }

// SeverityScale explains how SecuritySeverity values are chosen. GitHub code
// scanning maps the score to critical (>= 9.0), high (7.0-8.9), medium
// (4.0-6.9) and low (0.1-3.9); our bands follow the default level, and inside
// a band the score follows the worst realistic outcome.
const SeverityScale = "strict rules score 7.5-9.8 (9.0 and above: code execution or takeover without credentials; " +
	"8.0-8.9: reading or writing files outside their root, or publishing credentials; 7.5-7.9: integrity and transport " +
	"weaknesses that need a second step), warning rules 4.0-6.9, advisory rules below 4.0."

// SeverityBand returns the inclusive SecuritySeverity range allowed for a
// default level.
func SeverityBand(l finding.Level) (lo, hi float64) {
	switch l {
	case finding.Strict:
		return 7.5, 9.8
	case finding.Warning:
		return 4.0, 6.9
	case finding.Advisory:
		return 0.1, 3.9
	}
	return 0, 0
}

// Severity parses SecuritySeverity; ok is false when it is missing or not a
// number in 0.0-10.0.
func (r Rule) Severity() (float64, bool) {
	v, err := strconv.ParseFloat(r.SecuritySeverity, 64)
	if err != nil || v < 0 || v > 10 {
		return 0, false
	}
	return v, true
}

// Precision is the SARIF precision (GitHub code scanning: very-high, high,
// medium, low): how often a finding of this rule is a true positive. Rules
// that follow data flow or read intent from config cannot see every guard
// (a validator in another module, an auth proxy configured elsewhere), so
// they are medium; byte-exact checks are very-high; the rest are high.
func (r Rule) Precision() string {
	switch r.ID {
	case "MLG106", "MLG109", "MLG110", "MLG111":
		return "very-high"
	case "MLG103", "MLG105", "MLG201", "MLG203", "MLG204", "MLG301", "MLG302", "MLG401":
		return "medium"
	}
	return "high"
}
