package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The exact command form external tests use: serve --upstream --listen
// --data-dir, users and tokens from the same data dir; shutdown on cancel.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	if _, e, code := runCLI(t, "serve user password\n", "users", "create", "dana", "--password-stdin", "--data-dir", dir); code != 0 {
		t.Fatal(e)
	}
	tok, e, code := runCLI(t, "", "tokens", "create", "dana", "--data-dir", dir)
	if code != 0 {
		t.Fatal(e)
	}
	port := testenv.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--upstream", "http://127.0.0.1:9", "--listen", addr, "--data-dir", dir},
			Env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }})
	}()
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err = http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
	}
	if err != nil {
		t.Fatalf("gateway did not start: %v\n%s", err, stderr.String())
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/2.0/mlflow/experiments/search", nil)
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("no credentials: %v %v", resp, err)
	}
	resp.Body.Close()
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("token, upstream down: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	log := stderr.String()
	for _, want := range []string{`"msg":"serving plain HTTP on loopback`, `"msg":"request"`, `"request_id":`, `"decision":"deny"`, `"msg":"shutting down`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, strings.TrimSpace(tok)) {
		t.Error("token in the log")
	}
	// Plain HTTP beyond loopback is refused at startup.
	_, e, code = runCLI(t, "", "serve", "--upstream", "http://127.0.0.1:9", "--listen", "0.0.0.0:0", "--data-dir", dir)
	if code == 0 || !strings.Contains(e, "not loopback") {
		t.Fatalf("0.0.0.0 without TLS: %d %s", code, e)
	}
	_, e, code = runCLI(t, "", "serve", "--listen", addr, "--data-dir", dir)
	if code != ExitUsage || !strings.Contains(e, "--upstream") {
		t.Fatalf("missing upstream: %d %s", code, e)
	}
}

// A bad policy file is a usage error naming the file and every problem,
// before the store is opened or anything listens.
func TestServePolicyFileErrors(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "policy.yaml")
	bad := "secrets:\n  mode: shout\nlocations:\n  allowed_roots: [\"s3://b/../x\"]\nsigned_urls:\n  ttl: 3h\n"
	if err := os.WriteFile(pf, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, e, code := runCLI(t, "", "serve", "--upstream", "http://127.0.0.1:9", "--data-dir", dir, "--policy", pf)
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d\n%s", code, ExitUsage, e)
	}
	for _, want := range []string{"secrets.mode", "allowed_roots[0]", "signed_urls.ttl", pf} {
		if !strings.Contains(e, want) {
			t.Errorf("stderr lacks %q:\n%s", want, e)
		}
	}
	if n := strings.Count(e, "--policy "+pf); n < 3 {
		t.Errorf("each problem should name the file (%d lines do):\n%s", n, e)
	}
	if err := os.WriteFile(pf, []byte("secrets:\n  mdoe: redact\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, e, code = runCLI(t, "", "serve", "--upstream", "http://127.0.0.1:9", "--data-dir", dir, "--policy", pf); code != ExitUsage || !strings.Contains(e, "mdoe") {
		t.Errorf("unknown key: exit %d\n%s", code, e)
	}
	if _, e, code = runCLI(t, "", "serve", "--upstream", "http://127.0.0.1:9", "--data-dir", dir, "--policy", filepath.Join(dir, "absent.yaml")); code != ExitUsage || !strings.Contains(e, "absent.yaml") {
		t.Errorf("missing file: exit %d\n%s", code, e)
	}
}

// --no-policy with --policy, and an unknown --sqlite-sync, are usage
// errors before anything is opened.
func TestServePolicySwitchErrors(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pf, []byte("secrets:\n  mode: redact\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, e, code := runCLI(t, "", "serve", "--upstream", "http://127.0.0.1:9", "--data-dir", dir, "--no-policy", "--policy", pf); code != ExitUsage || !strings.Contains(e, "--no-policy and --policy") {
		t.Errorf("--no-policy --policy: exit %d\n%s", code, e)
	}
	if _, e, code := runCLI(t, "", "serve", "--upstream", "http://127.0.0.1:9", "--data-dir", dir, "--sqlite-sync", "off"); code != ExitUsage || !strings.Contains(e, "--sqlite-sync") {
		t.Errorf("--sqlite-sync off: exit %d\n%s", code, e)
	}
}
