package gateway

import (
	"io"
	"sort"

	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// textSecrets searches a spooled text artifact for secrets (MLG204) with
// the detectors scan and audit use, and returns the detector names only.
// The file is read in overlapping windows (secrets.ScanReader), not line by
// line: a secret straddling a cut inside one long line, or a private key
// spread over lines, is found wherever it falls.
func (g *Gateway) textSecrets(f io.ReadSeeker) ([]string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	if err := g.dg.det.ScanReader(f, func(m secrets.Match) error {
		seen[m.Kind] = true
		return nil
	}); err != nil {
		return nil, err
	}
	kinds := make([]string, 0, len(seen))
	for k := range seen {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds, nil
}
