package policy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// policyProxy is the smallest stand-in for the gateway's use of the
// engine: read the body, decide, forward the decided bytes.
func policyProxy(t *testing.T, e *Engine, upstream string) *httptest.Server {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		p := r.URL.RawPath
		if p == "" {
			p = r.URL.Path
		}
		d := e.Decide(r.Context(), &Request{Method: r.Method, Path: p, RawQuery: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), Body: body})
		switch d.Action {
		case Deny:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(map[string]string{"error_code": "PERMISSION_DENIED", "message": d.Rule + ": " + d.Reason, "rule_id": d.Rule})
			return
		case Rewrite:
			body = d.Body
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		rp.ServeHTTP(w, r)
	}))
}

// The real MLflow server behind the policies, driven by the real MLflow
// client: every benign call of a normal workflow passes, a secret param
// and a file: location are refused with their rule, and in redact mode
// MLflow stores the marker and never the secret.
func TestRealMLflowBehindPolicies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MLflow")
	}
	testenv.Python(t)
	srv := testenv.StartMLflow(t, testenv.MLflowOptions{})
	denyE := engine(t, Config{})
	redactE := engine(t, Config{Secrets: SecretsConfig{Mode: ModeRedact}})
	dp, rp := policyProxy(t, denyE, srv.URL), policyProxy(t, redactE, srv.URL)
	defer dp.Close()
	defer rp.Close()
	out := testenv.RunPython(t, filepath.Join("testdata", "client_flow.py"), nil, dp.URL, rp.URL)
	for _, want := range []string{"denied-param", "denied-location", "redacted-value=[REDACTED:github-token]",
		"benign-kept=4096,3f9c2b1e8d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e,value", "ALL-DONE"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in client output:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("client output:\n%s", out)
	}
	t.Logf("client: %s", strings.ReplaceAll(strings.TrimSpace(out), "\n", " | "))
}
