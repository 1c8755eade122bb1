package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/cli"
)

// These servers stand in for broken deployments (a proxy answering HTML, a
// crashing backend): faults a real MLflow cannot be made to produce on
// demand. The live test covers the real server.
func TestAuditFailuresMarkIncomplete(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		reason  string
	}{
		{"malformed JSON", func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/2.0/mlflow/experiments/search") && r.Header.Get("Origin") == "" && r.Host != "mlflow-guard-probe.invalid" && r.URL.Query().Get("max_results") == "1" {
				w.Header().Set("X-Content-Type-Options", "nosniff")
				w.Header().Set("X-Frame-Options", "DENY")
				w.WriteHeader(http.StatusForbidden)
				return
			}
			fmt.Fprint(w, "<html><body>Sign in</body></html>")
		}, "malformed response"},
		{"5xx", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "upstream down")
		}, "HTTP 502"},
		{"old server without the route", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("max_results") == "1" {
				w.Header().Set("X-Content-Type-Options", "nosniff")
				w.Header().Set("X-Frame-Options", "DENY")
				fmt.Fprint(w, `{"experiments":[]}`)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "404 page not found")
		}, "route not supported"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			for _, format := range []string{"json", "sarif", "text"} {
				var out, errb bytes.Buffer
				code := cli.Run(context.Background(), []string{"audit", "--tracking-uri", srv.URL, "--format", format}, cli.Env{
					Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
						if k == "MLFLOW_TRACKING_TOKEN" {
							return "t0ken-for-test"
						}
						return ""
					},
				})
				if code != cli.ExitFailed {
					t.Errorf("%s: exit %d, want 3; stderr:\n%s", format, code, errb.String())
				}
				if !strings.Contains(errb.String(), "INCOMPLETE") || !strings.Contains(errb.String(), c.reason) {
					t.Errorf("%s: stderr lacks INCOMPLETE and %q:\n%s", format, c.reason, errb.String())
				}
				switch format {
				case "json":
					var rep jsonReport
					if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
						t.Fatal(err)
					}
					if !rep.Summary.Incomplete || len(rep.Errors) == 0 {
						t.Errorf("json: incomplete=%v errors=%d", rep.Summary.Incomplete, len(rep.Errors))
					}
				case "sarif":
					if !strings.Contains(out.String(), `"executionSuccessful": false`) && !strings.Contains(out.String(), `"executionSuccessful":false`) {
						t.Errorf("sarif: run not marked unsuccessful:\n%s", out.String())
					}
				}
				if strings.Contains(out.String()+errb.String(), "t0ken-for-test") {
					t.Errorf("%s: token printed", format)
				}
			}
		})
	}
}
