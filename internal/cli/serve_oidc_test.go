package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

const testOIDCSecret = "oidc-client-secret-never-printed-7f3a"

// OIDC flag errors are usage errors that never echo the client secret.
func TestServeOIDCFlagErrors(t *testing.T) {
	dir := t.TempDir()
	sf := filepath.Join(dir, "secret")
	if err := os.WriteFile(sf, []byte(testOIDCSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"serve", "--upstream", "http://127.0.0.1:9", "--data-dir", dir}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--oidc-client-id", "x"}, "need --oidc-issuer"},
		{[]string{"--oidc-issuer", "http://idp.example", "--oidc-client-id", "x", "--oidc-redirect-url", "https://gw.example/mlflow-guard/oidc/callback", "--oidc-client-secret-file", sf}, "--oidc-issuer must be an https://"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "x", "--oidc-redirect-url", "http://gw.example/mlflow-guard/oidc/callback", "--oidc-client-secret-file", sf}, "--oidc-redirect-url must be https://"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-redirect-url", "https://gw.example/mlflow-guard/oidc/callback", "--oidc-client-secret-file", sf}, "--oidc-client-id is required"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "x", "--oidc-redirect-url", "https://gw.example/mlflow-guard/oidc/callback", "--oidc-client-secret-file", empty}, "is empty"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "x", "--oidc-redirect-url", "https://gw.example/mlflow-guard/oidc/callback", "--oidc-client-secret-file", filepath.Join(dir, "absent")}, "absent"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "x", "--oidc-redirect-url", "https://gw.example/mlflow-guard/oidc/callback", "--oidc-client-secret-file", sf, "--oidc-scopes", "email"}, "must include openid"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "x", "--oidc-redirect-url", "https://gw.example/mlflow-guard/oidc/callback", "--oidc-client-secret-file", sf, "--oidc-logout-token-max-age", "1s"}, "--oidc-logout-token-max-age must be between"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "x", "--oidc-redirect-url", "https://gw.example/mlflow-guard/oidc/callback", "--oidc-client-secret-file", sf, "--oidc-post-logout-redirect-url", "http://gw.example/bye"}, "--oidc-post-logout-redirect-url must be an https://"},
		{[]string{"--oidc-issuer", "https://idp.example", "--oidc-client-id", "x", "--oidc-redirect-url", "https://gw.example/mlflow-guard/oidc/backchannel-logout", "--oidc-client-secret-file", sf}, "--oidc-redirect-url must be https://"},
	} {
		_, e, code := runCLI(t, "", append(append([]string{}, base...), c.args...)...)
		if code != ExitUsage || !strings.Contains(e, c.want) {
			t.Errorf("%v: exit %d, want %q in\n%s", c.args, code, c.want, e)
		}
		if strings.Contains(e, testOIDCSecret) {
			t.Errorf("%v: the client secret is printed:\n%s", c.args, e)
		}
	}
}

// With the provider unreachable the gateway still starts and serves API
// clients; the login answers 503 (JSON), and the gateway may sit behind a
// TLS-terminating proxy on the same host (plain HTTP on loopback, https
// redirect URL). The secret from the environment is never logged.
func TestServeOIDCProviderDown(t *testing.T) {
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	idp := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)) // nothing listens
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--upstream", "http://127.0.0.1:9", "--listen", addr, "--data-dir", dir, "--log-level", "debug",
			"--oidc-issuer", idp, "--oidc-client-id", "mlflow", "--oidc-redirect-url", "https://mlflow.example/mlflow-guard/oidc/callback",
			"--allowed-host", "mlflow.example", "--allowed-host", "127.0.0.1"},
			Env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(k string) string {
				if k == oidcSecretEnv {
					return testOIDCSecret
				}
				return ""
			}})
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
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", "http://"+addr+"/mlflow-guard/oidc/login", nil)
	req.Host = "mlflow.example"
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "provider is unavailable") || resp.Header.Get("Location") != "" {
		t.Errorf("login with the provider down: %d %s", resp.StatusCode, b)
	}
	// A page load without a session is sent to the login; an API call is 401.
	req, _ = http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Host = "mlflow.example"
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Dest", "document")
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/mlflow-guard/oidc/login?return_to=%2F" {
		t.Errorf("page load: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequest("GET", "http://"+addr+"/api/2.0/mlflow/experiments/search", nil)
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API call: %d", resp.StatusCode)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), testOIDCSecret) {
		t.Errorf("the client secret is in the log")
	}
}
