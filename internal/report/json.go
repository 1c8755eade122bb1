package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// JSON is the machine format of rules.md's output contract, described by
// schema/report.schema.json.
type JSON struct{}

var _ Writer = (*JSON)(nil)

// jsonReport fixes the key order and guarantees arrays are never null.
type jsonReport struct {
	Tool     Tool              `json:"tool"`
	Findings []finding.Finding `json:"findings"`
	Errors   []finding.Error   `json:"errors"`
	Summary  Summary           `json:"summary"`
}

// Write renders the report as one indented JSON document.
func (j *JSON) Write(w io.Writer, r *Report) error {
	v := prepare(r)
	out := jsonReport{Tool: v.tool, Findings: v.findings, Errors: v.errors, Summary: v.summary}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Messages may quote code with <, > and &; keep them readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}
