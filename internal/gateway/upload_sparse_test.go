package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestUploadSparseSpool sends the sparse spool's crafted zips (written by
// the model package's make_sparse.py; its oracle is zipfile + pickle,
// torch is not in the venv) through the gateway: benign checkpoints are
// forwarded whole while most of their bytes never reach the spool; every
// crafted one is refused and its body never completes upstream.
func TestUploadSparseSpool(t *testing.T) {
	dir := t.TempDir()
	out := testenv.RunPython(t, filepath.Join("..", "analyze", "model", "testdata", "make_sparse.py"), nil, dir)
	var oracle map[string]struct {
		Imports []string `json:"imports"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &oracle); err != nil {
		t.Fatalf("oracle output %q: %v", out, err)
	}
	f := &fakeUpstream{got: map[string][]byte{}, complete: map[string]bool{}}
	base, tok, st := startFakeGateway(t, f, policy.Config{})
	const p = "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/"
	for name := range oracle {
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		resp, msg := fakeDo(t, base, tok, "PUT", p+name, body)
		f.mu.Lock()
		got, complete := f.got[p+name], f.complete[p+name]
		f.mu.Unlock()
		if strings.HasPrefix(name, "benign") {
			if resp.StatusCode != 200 || !complete || !bytes.Equal(got, body) {
				t.Errorf("%s: %d %s; upstream got %d of %d bytes (complete=%v)", name, resp.StatusCode, msg, len(got), len(body), complete)
			}
			continue
		}
		if resp.StatusCode != 403 || !regexp.MustCompile(`"rule_id":"MLG1(06|11)"`).MatchString(msg) {
			t.Errorf("%s: %d %s, want 403 MLG106 or MLG111", name, resp.StatusCode, msg)
		}
		if complete {
			t.Errorf("%s: refused, but the upstream read the whole body", name)
		}
	}
	// The audit row says how much was spooled: a benign checkpoint's
	// storages stayed out of the spool.
	var a bytes.Buffer
	if err := st.ExportAudit(context.Background(), &a); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`artifact:benign\.pt[^\n]*bytes=(\d+) spooled=(\d+)`).FindStringSubmatch(a.String())
	if m == nil {
		t.Fatalf("no audit row for benign.pt: %s", a.String())
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	s, _ := strconv.ParseInt(m[2], 10, 64)
	if s <= 0 || s > n/4 {
		t.Errorf("benign.pt: spooled %d of %d bytes", s, n)
	}
}
