package gateway

import (
	"archive/zip"
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

// TestUploadFlatSpool: an upload that is no zip is spooled as its head and
// tail when no analyzer format claims it, and whole when it is text (the
// secret search reads all of it) or a claimed format. Each verdict is the
// whole file's: a secret deep in a large text file and a zip behind
// prepended bytes are refused, bulk binary passes with little spooled.
func TestUploadFlatSpool(t *testing.T) {
	const size = 4 << 20
	bulk := bytes.Repeat([]byte{0xff, 0, 1, 2}, size/4)
	line := []byte("step 12 loss 0.125 lr 3e-4\n")
	text := bytes.Repeat(line, size/len(line))
	secretText := append(append(append([]byte(nil), text[:3<<20]...), "aws_key = AKIA"+"UJZDEGXDNCF32EPF\n"...), text[3<<20:]...)
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "data.pkl", Method: zip.Store})
	_, _ = w.Write([]byte("\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."))
	_ = zw.Close()
	prepended := append(append([]byte(nil), bulk...), zb.Bytes()...)

	f := &fakeUpstream{got: map[string][]byte{}, complete: map[string]bool{}}
	base, tok, st := startFakeGateway(t, f, policy.Config{})
	const p = "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/"
	for _, c := range []struct {
		name    string
		body    []byte
		status  int
		rule    string
		maxKept int64 // bytes spooled at most (0: all)
	}{
		{"bulk.bin", bulk, 200, "", 1 << 20},
		{"train.log", text, 200, "", 0},
		{"secret.log", secretText, 403, "MLG204", 0},
		{"prepended.bin", prepended, 403, "MLG106", 1 << 20},
	} {
		resp, msg := fakeDo(t, base, tok, "PUT", p+c.name, c.body)
		f.mu.Lock()
		complete := f.complete[p+c.name]
		f.mu.Unlock()
		if resp.StatusCode != c.status || c.rule != "" && !strings.Contains(msg, `"rule_id":"`+c.rule+`"`) {
			t.Errorf("%s: %d %s, want %d %s", c.name, resp.StatusCode, msg, c.status, c.rule)
		}
		if complete != (c.status == 200) {
			t.Errorf("%s: upstream body complete=%v with status %d", c.name, complete, resp.StatusCode)
		}
		var a bytes.Buffer
		if err := st.ExportAudit(context.Background(), &a); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`artifact:` + regexp.QuoteMeta(c.name) + `[^\n]*bytes=(\d+) spooled=(\d+)`).FindStringSubmatch(a.String())
		if m == nil {
			t.Fatalf("%s: no audit row", c.name)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		s, _ := strconv.ParseInt(m[2], 10, 64)
		if n != int64(len(c.body)) || (c.maxKept == 0 && s != n) || (c.maxKept > 0 && s > c.maxKept) {
			t.Errorf("%s: audit says bytes=%d spooled=%d (body %d, at most %d spooled)", c.name, n, s, len(c.body), c.maxKept)
		}
	}
}
