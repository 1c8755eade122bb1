package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

func TestSniffUpload(t *testing.T) {
	for _, c := range []struct {
		head []byte
		want string
	}{
		{[]byte("\x7fELF\x02\x01\x01"), "executable"},
		{[]byte("#!/bin/sh\necho hi\n"), "executable"},
		{[]byte("PK\x03\x04rest"), "model"},
		{[]byte("\x80\x04\x95\x10\x00"), "model"},
		{[]byte("\x89PNG\r\n\x1a\n...."), "image"},
		{[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "image"},
		{[]byte("PAR1\x15\x04"), "data"},
		{[]byte("\x1f\x8b\x08\x00"), "archive"},
		{[]byte("a,b\n1,2\n"), "text"},
		{[]byte("name: x\n\tval: \"é\"\n"), "text"},
		{[]byte(""), "text"},
		{[]byte("text\x00with nul"), "other"},
		{[]byte{0xff, 0xfe, 0x00, 0x01}, "other"},
	} {
		if got := sniffUpload(c.head); got != c.want {
			t.Errorf("sniffUpload(%q) = %s, want %s", c.head, got, c.want)
		}
	}
	// A rune cut at the end of a full head is still text.
	head := append(bytes.Repeat([]byte("a"), 4095), 0xc3)
	if got := sniffUpload(head); got != "text" {
		t.Errorf("cut rune: %s", got)
	}
}

func TestProxyPath(t *testing.T) {
	for _, c := range []struct {
		uri, want string
	}{
		{"mlflow-artifacts:/1/abc/artifacts/model", "1/abc/artifacts/model"},
		{"MLFLOW-ARTIFACTS:/1/m/", "1/m"},
		{"mlflow-artifacts://other-host/1/m", ""},
		{"mlflow-artifacts:/1/../2/m", ""},
		{"mlflow-artifacts:/1/%2e%2e/m", ""},
		{"mlflow-artifacts:/1//m", ""},
		{"mlflow-artifacts:/", ""},
		{"mlflow-artifacts:/1/m?x=1", ""},
		{"mlflow-artifacts:/1/m#frag", ""},
		{"s3://bucket/1/m", ""},
		{"file:///etc/passwd", ""},
		{"/abs/path", ""},
		{"", ""},
	} {
		got, err := proxyPath(c.uri)
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("proxyPath(%q) = %q, %v; want %q", c.uri, got, err, c.want)
		}
	}
}

func FuzzProxyPath(f *testing.F) {
	for _, s := range []string{"mlflow-artifacts:/1/a/b", "mlflow-artifacts:/1/%2e%2e/x", "mlflow-artifacts://h/1", "mlflow-artifacts:/a\\b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		p, err := proxyPath(uri)
		if err != nil {
			return
		}
		// What passes is a clean relative path: no escapes, no dot or
		// empty segments, nothing a store could read differently.
		if strings.ContainsAny(p, "%\\\x00?#") || strings.HasPrefix(p, "/") || p == "" {
			t.Fatalf("proxyPath(%q) = %q", uri, p)
		}
		for _, s := range strings.Split(p, "/") {
			if s == "" || s == "." || s == ".." {
				t.Fatalf("proxyPath(%q) = %q", uri, p)
			}
		}
	})
}

func FuzzSniffUpload(f *testing.F) {
	for _, s := range []string{"\x7fELF", "PK\x03\x04", "a,b\n", "\x80\x05", "\xc3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		k := sniffUpload(head)
		found := false
		for _, u := range policy.UploadTypes {
			found = found || u == k
		}
		if !found {
			t.Fatalf("sniffUpload(%q) = %q, not a configurable type", head, k)
		}
		if k == "text" && bytes.IndexByte(head, 0) >= 0 {
			t.Fatalf("text with a NUL: %q", head)
		}
	})
}

// fakeUpstream records what reached it. It stands in for MLflow only in
// the error paths the real server cannot be made to produce on demand (a
// failing set-tag) and to count the exact bytes an upload delivered.
type fakeUpstream struct {
	mu       sync.Mutex
	got      map[string][]byte // upload path -> bytes received before the body ended
	complete map[string]bool
	calls    []string
	files    map[string][]byte // artifact proxy path -> content
	failTag  bool
	discard  bool // count nothing: benchmarks
}

func (f *fakeUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
	const art = "/api/2.0/mlflow-artifacts/artifacts"
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, art+"/"):
		if f.discard {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, "{}")
			return
		}
		b, err := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got[r.URL.Path] = b
		f.complete[r.URL.Path] = err == nil
		f.mu.Unlock()
		_, _ = io.WriteString(w, "{}")
	case r.URL.Path == art:
		p := r.URL.Query().Get("path")
		var files []map[string]any
		for k, v := range f.files {
			if rest, ok := strings.CutPrefix(k, p+"/"); ok && !strings.Contains(rest, "/") {
				files = append(files, map[string]any{"path": rest, "is_dir": false, "file_size": len(v)})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"files": files})
	case strings.HasPrefix(r.URL.Path, art+"/"):
		b, ok := f.files[strings.TrimPrefix(r.URL.Path, art+"/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	case strings.HasSuffix(r.URL.Path, "/model-versions/create"):
		_, _ = io.WriteString(w, `{"model_version":{"name":"m","version":"7"}}`)
	case strings.HasSuffix(r.URL.Path, "/model-versions/set-tag"):
		if f.failTag {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "{}")
	case strings.HasSuffix(r.URL.Path, "/model-versions/delete"):
		_, _ = io.WriteString(w, "{}")
	default:
		http.NotFound(w, r)
	}
}

func startFakeGateway(t testing.TB, f *fakeUpstream, cfg policy.Config) (string, string, *store.Store) {
	t.Helper()
	up := httptest.NewServer(f)
	t.Cleanup(up.Close)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateUser(ctx, "t", "u", "test password 12", true); err != nil {
		t.Fatal(err)
	}
	tok, _, _ := st.CreateToken(ctx, "t", "u", "", time.Hour)
	eng, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(up.URL)
	g, err := New(Config{Upstream: u, Policy: eng}, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(g)
	t.Cleanup(gw.Close)
	return gw.URL, tok, st
}

func fakeDo(t testing.TB, base, tok, method, p string, body []byte) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, base+p, bytes.NewReader(body))
	req.Host = "127.0.0.1"
	req.Header.Set("Authorization", "Bearer "+tok)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// The hold-back: a refused upload never delivers its last bytes upstream
// (the body ends in an error), a passing one delivers every byte.
func TestUploadHoldBack(t *testing.T) {
	f := &fakeUpstream{got: map[string][]byte{}, complete: map[string]bool{}}
	spool := t.TempDir()
	base, tok, _ := startFakeGateway(t, f, policy.Config{Uploads: policy.UploadsConfig{HoldBack: 4096, SpoolDir: spool}})
	// A protocol-2 pickle calling os.system, padded past the hold-back.
	evil := append([]byte("\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03"), bytes.Repeat([]byte("N0"), 50000)...)
	evil = append(evil, '.')
	benign := bytes.Repeat([]byte("epoch,loss\n1,0.5\n"), 20000)
	const p = "/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/"
	resp, body := fakeDo(t, base, tok, http.MethodPut, p+"evil.pkl", evil)
	if resp.StatusCode != 403 || !strings.Contains(body, `"rule_id":"MLG106"`) {
		t.Errorf("evil upload: %d %s", resp.StatusCode, body)
	}
	f.mu.Lock()
	got, complete := f.got[p+"evil.pkl"], f.complete[p+"evil.pkl"]
	f.mu.Unlock()
	if complete || len(got) > len(evil)-4096 {
		t.Errorf("the upstream got %d of %d bytes (complete=%v); want at most %d and an error", len(got), len(evil), complete, len(evil)-4096)
	}
	// The UI's /ajax-api mirror is the same MLflow view: scanned alike.
	if resp, body := fakeDo(t, base, tok, http.MethodPut, strings.Replace(p, "/api/", "/ajax-api/", 1)+"evil2.pkl", evil); resp.StatusCode != 403 || !strings.Contains(body, "MLG106") {
		t.Errorf("ajax mirror: %d %s", resp.StatusCode, body)
	}
	// Multipart parts would bypass the scan: refused on both prefixes.
	for _, pre := range []string{"/api/", "/ajax-api/"} {
		if resp, body := fakeDo(t, base, tok, http.MethodPost, pre+"2.0/mlflow-artifacts/mpu/create/1/r/m.pkl", []byte(`{"path":"m.pkl","num_parts":2}`)); resp.StatusCode != 403 || !strings.Contains(body, "MLG306") {
			t.Errorf("multipart %s: %d %s", pre, resp.StatusCode, body)
		}
	}
	resp, body = fakeDo(t, base, tok, http.MethodPut, p+"metrics.csv", benign)
	f.mu.Lock()
	got = f.got[p+"metrics.csv"]
	f.mu.Unlock()
	if resp.StatusCode != 200 || !bytes.Equal(got, benign) {
		t.Errorf("benign upload: %d %s; upstream got %d of %d bytes", resp.StatusCode, body, len(got), len(benign))
	}
	// Every spool is removed once its request ends, passed or refused (Go
	// 1.26's ReverseProxy no longer closes the inbound body for us).
	left, err := os.ReadDir(spool)
	for deadline := time.Now().Add(5 * time.Second); err == nil && len(left) > 0 && time.Now().Before(deadline); left, err = os.ReadDir(spool) {
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || len(left) > 0 {
		t.Errorf("spool directory after the uploads: %d entries left, err %v", len(left), err)
	}
	// log-only: the same file is stored, the verdict only recorded.
	fl := &fakeUpstream{got: map[string][]byte{}, complete: map[string]bool{}}
	lbase, ltok, lst := startFakeGateway(t, fl, policy.Config{Uploads: policy.UploadsConfig{Mode: policy.GateLogOnly}})
	if resp, body := fakeDo(t, lbase, ltok, http.MethodPut, p+"evil.pkl", evil); resp.StatusCode != 200 || !bytes.Equal(fl.got[p+"evil.pkl"], evil) {
		t.Errorf("log-only: %d %s", resp.StatusCode, body)
	}
	var a bytes.Buffer
	_ = lst.ExportAudit(context.Background(), &a)
	if !strings.Contains(a.String(), `"log-only"`) || !strings.Contains(a.String(), "MLG106") {
		t.Errorf("log-only audit: %s", a.String())
	}
}

// A version whose tags cannot be written is deleted again and the client
// is refused: no untagged version survives the gate.
func TestGateTagFailureDeletesVersion(t *testing.T) {
	f := &fakeUpstream{got: map[string][]byte{}, complete: map[string]bool{}, failTag: true,
		files: map[string][]byte{"1/m/MLmodel": []byte("flavors: {}\n"), "1/m/weights.csv": []byte("1,2\n")}}
	base, tok, st := startFakeGateway(t, f, policy.Config{})
	resp, body := fakeDo(t, base, tok, http.MethodPost, "/api/2.0/mlflow/model-versions/create",
		[]byte(`{"name":"m","source":"mlflow-artifacts:/1/m"}`))
	if resp.StatusCode != 403 || !strings.Contains(body, "MLG111") {
		t.Errorf("tag failure: %d %s", resp.StatusCode, body)
	}
	f.mu.Lock()
	calls := strings.Join(f.calls, "\n")
	f.mu.Unlock()
	if !strings.Contains(calls, "DELETE /api/2.0/mlflow/model-versions/delete") {
		t.Errorf("the version was not deleted:\n%s", calls)
	}
	var a bytes.Buffer
	_ = st.ExportAudit(context.Background(), &a)
	if !strings.Contains(a.String(), "tagging failed; version deleted") {
		t.Errorf("audit: %s", a.String())
	}
	// A spool directory that is gone refuses (fail closed).
	gone := t.TempDir()
	f2 := &fakeUpstream{got: map[string][]byte{}, complete: map[string]bool{}, files: f.files}
	b2, t2, _ := startFakeGateway(t, f2, policy.Config{Registration: policy.RegistrationConfig{SpoolDir: gone}})
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if resp, body := fakeDo(t, b2, t2, http.MethodPost, "/api/2.0/mlflow/model-versions/create",
		[]byte(`{"name":"m","source":"mlflow-artifacts:/1/m"}`)); resp.StatusCode != 503 || strings.Contains(strings.Join(f2.calls, " "), "model-versions/create") {
		t.Errorf("spool gone: %d %s; upstream calls %v", resp.StatusCode, body, f2.calls)
	}
}
