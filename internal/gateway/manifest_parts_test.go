package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
)

// TestGateOfJoinsManifestParts: what the approvals page and the approval
// checks read of a version is the whole manifest, or nothing when a part
// is missing.
func TestGateOfJoinsManifestParts(t *testing.T) {
	var b strings.Builder
	b.WriteString("# mlflow-guard digest v1 (sha256)\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "%064x  f/%05d\n", i, i)
	}
	parts, err := approval.SplitManifest(b.String())
	if err != nil || len(parts) < 3 {
		t.Fatalf("split: %v %d", err, len(parts))
	}
	mv := &mvInfo{}
	for _, kv := range parts {
		mv.Tags = append(mv.Tags, struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		}{kv[0], kv[1]})
	}
	if got := gateOf(mv).Manifest; got != b.String() {
		t.Fatalf("joined manifest differs (%d bytes, want %d)", len(got), b.Len())
	}
	m, ok := parseManifestTag(gateOf(mv).Manifest)
	if !ok || len(m) != 2000 {
		t.Fatalf("parsed %d files", len(m))
	}
	mv.Tags = mv.Tags[:len(mv.Tags)-1]
	if got := gateOf(mv).Manifest; got != "" {
		t.Fatalf("a manifest with a part missing read as %d bytes", len(got))
	}
}
