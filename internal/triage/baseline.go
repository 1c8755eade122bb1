package triage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/mlflow-guard/mlflow-guard/internal/safeio"
)

// maxBaselineSize bounds what LoadBaseline reads.
const maxBaselineSize = 256 << 20

// Baseline is the set of fingerprints of an earlier JSON report; findings
// that were already there are suppressed with kind "baseline", so a team can
// adopt the tool without fixing its whole history first.
type Baseline struct {
	Path string
	fps  map[string]bool
}

// Has reports whether a fingerprint was in the baseline.
func (b *Baseline) Has(fp string) bool { return b != nil && fp != "" && b.fps[fp] }

// Len is the number of fingerprints.
func (b *Baseline) Len() int { return len(b.fps) }

// LoadBaseline reads a report written by `scan --format json`.
func LoadBaseline(path string) (*Baseline, error) {
	// Bounded at read time, regular files only (no FIFO, no /dev/zero).
	data, err := safeio.ReadFile(path, maxBaselineSize)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return ParseBaseline(path, data)
}

// ParseBaseline reads baseline bytes; path is used in messages.
func ParseBaseline(path string, data []byte) (*Baseline, error) {
	var doc struct {
		Findings *[]struct {
			Fingerprint string `json:"fingerprint"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("baseline %s: not a JSON report: %w", path, err)
	}
	if doc.Findings == nil {
		return nil, fmt.Errorf("baseline %s: no \"findings\" list; write one with `mlflow-guard scan --format json`", path)
	}
	b := &Baseline{Path: path, fps: map[string]bool{}}
	for i, f := range *doc.Findings {
		if f.Fingerprint == "" {
			return nil, fmt.Errorf("baseline %s: finding %d has no fingerprint", path, i+1)
		}
		b.fps[f.Fingerprint] = true
	}
	return b, nil
}
