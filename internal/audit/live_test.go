package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/cli"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// seedInfo is what testdata/seed.py created.
type seedInfo struct {
	Experiments map[string]string            `json:"experiments"`
	Runs        map[string]string            `json:"runs"`
	Models      map[string]map[string]string `json:"models"`
}

type jsonReport struct {
	Findings []struct {
		RuleID  string `json:"rule_id"`
		Path    string `json:"path"`
		Message string `json:"message"`
		Level   string `json:"level"`
	} `json:"findings"`
	Errors []struct {
		Path, Kind, Message string
	} `json:"errors"`
	Summary struct {
		Incomplete bool `json:"incomplete"`
	} `json:"summary"`
}

// runAudit runs the real command and decodes its JSON report.
func runAudit(t *testing.T, env map[string]string, args ...string) (int, jsonReport, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := cli.Run(ctx, append([]string{"audit", "--format", "json"}, args...), cli.Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
	})
	var rep jsonReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("audit %v: exit %d, report is not JSON: %v\nstdout: %s\nstderr: %s", args, code, err, out.String(), errb.String())
	}
	return code, rep, errb.String()
}

func findingSet(r jsonReport) []string {
	var s []string
	for _, f := range r.Findings {
		s = append(s, f.RuleID+" "+f.Path)
	}
	sort.Strings(s)
	return s
}

func uniq(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func assertSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: findings differ\n got:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// dataFindings are the findings the seed's data must produce in every mode.
func dataFindings(s seedInfo) []string {
	leak := "experiments/" + s.Experiments["leaky"] + "/runs/" + s.Runs["leaky"]
	sk := s.Models["fraud-skops"]
	return []string{
		"MLG201 " + leak + "/params/api_key",
		"MLG201 " + leak + "/params/db_uri",
		"MLG201 " + leak + "/tags/aws_secret_access_key",
		"MLG201 " + leak + "/run_name",
		"MLG201 " + leak + "/datasets/train",
		"MLG201 experiments/" + s.Experiments["leaky"] + "/runs/" + s.Runs["deleted"] + "/params/api_key",
		"MLG205 experiments/" + s.Experiments["local-file-store"] + "/artifact_location",
		"MLG205 experiments/" + s.Experiments["traversal"] + "/artifact_location",
		"MLG304 experiments/" + s.Experiments["plain-http"] + "/artifact_location",
		"MLG304 experiments/" + s.Experiments["public-bucket"] + "/artifact_location",
		"MLG105 registered-models/fraud-pickle/versions/" + s.Models["fraud-pickle"]["production"],
		"MLG105 registered-models/fraud-skops/versions/" + sk["champion"],
		"MLG105 registered-models/fraud-skops/versions/" + sk["self"],
		"MLG110 registered-models/fraud-skops/versions/" + sk["nodigest"],
	}
}

// mlmodelFindings need the MLmodel files (a tracking URI).
func mlmodelFindings(s seedInfo) []string {
	return []string{
		"MLG101 registered-models/fraud-pickle/versions/" + s.Models["fraud-pickle"]["production"] + "/MLmodel",
		"MLG101 registered-models/evil/versions/" + s.Models["evil"]["version"] + "/MLmodel",
		"MLG108 registered-models/custom-pyfunc/versions/" + s.Models["custom-pyfunc"]["version"] + "/MLmodel",
	}
}

// deepFindings come from the model analyzer on downloaded files.
func deepFindings(s seedInfo) []string {
	return []string{
		"MLG106 registered-models/evil/versions/" + s.Models["evil"]["version"] + "/artifacts/model.pkl",
		// The cloudpickled PythonModel rebuilds a class from code objects
		// with cloudpickle's helpers only: one MLG108 (runs code on load by
		// design), not a list of MLG106 (issue 9, pyfuncs).
		"MLG108 registered-models/custom-pyfunc/versions/" + s.Models["custom-pyfunc"]["version"] + "/artifacts/python_model.pkl",
	}
}

func seed(t *testing.T, trackingURI, dir string) (*exec.Cmd, string) {
	py := testenv.Python(t)
	outFile := filepath.Join(dir, "seed.json")
	cmd := exec.Command(py, filepath.Join(testenv.RepoRoot(), "internal/audit/testdata/seed.py"), outFile)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI="+trackingURI, "MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=true")
	return cmd, outFile
}

func readSeed(t *testing.T, cmd *exec.Cmd, outFile string, out []byte, err error) seedInfo {
	t.Helper()
	if err != nil {
		t.Fatalf("seed %s: %v\n%s", cmd.Env[len(cmd.Env)-3], err, lastBytes(out, 5000))
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	var s seedInfo
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("seed output: %v", err)
	}
	return s
}

func lastBytes(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// TestAuditLive audits real MLflow servers seeded with the real MLflow
// client: one open server (REST and SQLite database modes), one with the
// basic-auth app, and a PostgreSQL backend store read directly.
func TestAuditLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MLflow servers")
	}
	testenv.Python(t)
	// Launch everything first: server start-up dominates the test time.
	open := testenv.LaunchMLflow(t, testenv.MLflowOptions{
		// A server that accepts http:// experiment artifact locations, so
		// the seed can create one (MLG304).
		Env: []string{"MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES=http"},
	})
	const adminUser, adminPass = "root-admin", "V3ry-Str0ng-Adm1n-Pw"
	authed := testenv.LaunchMLflow(t, testenv.MLflowOptions{
		BasicAuth: true, AdminUser: adminUser, AdminPassword: adminPass,
		// A weakened configuration: any Host, any CORS origin, no framing
		// protection (MLG408, MLG409).
		ExtraArgs: []string{"--allowed-hosts", "*", "--cors-allowed-origins", "*", "--x-frame-options", "NONE"},
	})
	pg := testenv.StartPostgres(t)
	pgURI := pg.CreateDB(t, "mlflow")
	// Seed PostgreSQL through MLflow's own SQLAlchemy store while the
	// servers come up.
	pgDir := t.TempDir()
	pgCmd, pgOut := seed(t, strings.Replace(pgURI, "postgres://", "postgresql+psycopg2://", 1), pgDir)
	type res struct {
		out []byte
		err error
	}
	pgDone := make(chan res, 1)
	go func() { o, err := pgCmd.CombinedOutput(); pgDone <- res{o, err} }()

	open.Wait(t)
	openCmd, openOut := seed(t, open.URL, t.TempDir())
	o, err := openCmd.CombinedOutput()
	s := readSeed(t, openCmd, openOut, o, err)
	authed.Wait(t)

	t.Run("rest", func(t *testing.T) {
		code, rep, stderr := runAudit(t, nil, "--tracking-uri", open.URL)
		want := append(dataFindings(s), mlmodelFindings(s)...)
		want = append(want, "MLG401 server/auth")
		assertSet(t, "REST audit", findingSet(rep), want)
		assertDeletedMarked(t, "REST audit", rep, s)
		for _, f := range rep.Findings {
			// the server is on loopback: advice, not a strict finding
			if f.RuleID == "MLG401" && (f.Level != "advisory" || !strings.Contains(f.Message, "on loopback")) {
				t.Errorf("MLG401 on a loopback server: level %s, message %q; want advisory naming loopback", f.Level, f.Message)
			}
		}
		if code != cli.ExitFindings || rep.Summary.Incomplete {
			t.Errorf("exit %d incomplete=%v, want 1 and complete; stderr:\n%s", code, rep.Summary.Incomplete, stderr)
		}
		for _, f := range rep.Findings {
			for _, secret := range []string{"Zx9vQ2mL7pK4rT8wY3nB6cF1", "Sup3rS3cretPw", "wJalrXUtnFEMI", "R4nd0mT0k3n", "Passw0rdInUrl99"} {
				if strings.Contains(f.Message, secret) {
					t.Errorf("finding %s %s prints a secret: %s", f.RuleID, f.Path, f.Message)
				}
			}
		}
	})

	t.Run("deep", func(t *testing.T) {
		code, rep, stderr := runAudit(t, nil, "--tracking-uri", open.URL, "--deep")
		want := append(dataFindings(s), mlmodelFindings(s)...)
		want = append(append(want, "MLG401 server/auth"), deepFindings(s)...)
		// The model analyzer may report one file several times (one per
		// dangerous import); the set of (rule, file) pairs is what is pinned.
		assertSet(t, "deep audit", uniq(findingSet(rep)), want)
		if code != cli.ExitFindings || rep.Summary.Incomplete {
			t.Errorf("exit %d incomplete=%v, want 1 and complete; stderr:\n%s", code, rep.Summary.Incomplete, stderr)
		}
		// A budget too small for any file: nothing downloaded, each file
		// listed as a limit error, and the audit is partial (exit 3).
		code, rep, _ = runAudit(t, nil, "--tracking-uri", open.URL, "--deep", "--deep-budget", "10")
		limits := 0
		for _, e := range rep.Errors {
			if e.Kind == "limit" {
				limits++
			}
		}
		if limits == 0 || !rep.Summary.Incomplete || code != cli.ExitFailed {
			t.Errorf("tiny budget: %d limit errors, incomplete=%v, exit %d; want limit errors, incomplete, exit 3", limits, rep.Summary.Incomplete, code)
		}
		for _, f := range rep.Findings {
			if strings.Contains(f.Path, "/artifacts/") {
				t.Errorf("tiny budget still scanned %s", f.Path)
			}
		}
	})

	t.Run("tls-proxy", func(t *testing.T) {
		// A TLS-terminating reverse proxy in front of the real server, with
		// no HSTS header: MLG407 in both cases, plus the unverified-TLS
		// MLG407 when MLFLOW_TRACKING_INSECURE_TLS is set.
		target, _ := url.Parse(open.URL)
		proxy := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
		defer proxy.Close()
		base := append(dataFindings(s), mlmodelFindings(s)...)
		base = append(base, "MLG401 server/auth", "MLG407 server/headers/Strict-Transport-Security")
		code, rep, stderr := runAudit(t, map[string]string{"MLFLOW_TRACKING_INSECURE_TLS": "true"}, "--tracking-uri", proxy.URL)
		assertSet(t, "insecure TLS audit", findingSet(rep), append(append([]string{}, base...), "MLG407 server/transport"))
		if code != cli.ExitFindings {
			t.Errorf("exit %d; stderr:\n%s", code, stderr)
		}
		ca := filepath.Join(t.TempDir(), "ca.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw})
		if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
		_, rep, stderr = runAudit(t, map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": ca}, "--tracking-uri", proxy.URL)
		assertSet(t, "verified TLS audit", findingSet(rep), base)
		if rep.Summary.Incomplete {
			t.Errorf("verified TLS audit incomplete; stderr:\n%s", stderr)
		}
	})

	sqlitePath := strings.TrimPrefix(open.BackendURI, "sqlite:///")
	t.Run("sqlite", func(t *testing.T) {
		code, rep, stderr := runAudit(t, nil, "--database-uri", "sqlite:///"+sqlitePath)
		assertSet(t, "SQLite audit", findingSet(rep), dataFindings(s))
		assertDeletedMarked(t, "SQLite audit", rep, s)
		if code != cli.ExitFindings || rep.Summary.Incomplete {
			t.Errorf("exit %d incomplete=%v, want 1 and complete; stderr:\n%s", code, rep.Summary.Incomplete, stderr)
		}
		// With both, the database supplies the data and the server the rest.
		code, rep, _ = runAudit(t, nil, "--database-uri", "sqlite:///"+sqlitePath, "--tracking-uri", open.URL)
		want := append(dataFindings(s), mlmodelFindings(s)...)
		assertSet(t, "SQLite+REST audit", findingSet(rep), append(want, "MLG401 server/auth"))
		if code != cli.ExitFindings {
			t.Errorf("exit %d, want 1", code)
		}
	})

	t.Run("postgres", func(t *testing.T) {
		r := <-pgDone
		ps := readSeed(t, pgCmd, pgOut, r.out, r.err)
		code, rep, stderr := runAudit(t, nil, "--database-uri", pgURI)
		// Seeded without a server, the Default, clean and leaky experiments
		// got MLflow's local default artifact root (./mlruns): MLG205 too.
		want := dataFindings(ps)
		for _, e := range []string{"0", ps.Experiments["clean"], ps.Experiments["leaky"]} {
			want = append(want, "MLG205 experiments/"+e+"/artifact_location")
		}
		assertSet(t, "PostgreSQL audit", findingSet(rep), want)
		if code != cli.ExitFindings || rep.Summary.Incomplete {
			t.Errorf("exit %d incomplete=%v, want 1 and complete; stderr:\n%s", code, rep.Summary.Incomplete, stderr)
		}
	})

	t.Run("basic-auth", func(t *testing.T) {
		// The historic default pair must be accepted by this server for
		// MLG404 to be true. MLflow 3.17 refuses to bootstrap an admin with
		// it and rejects admin logins that use it, but a non-admin account
		// named "admin" with that password is still accepted: create one
		// through MLflow's own user API, as its admin.
		createUser(t, authed.URL, adminUser, adminPass, "admin", "password1234")
		creds := map[string]string{"MLFLOW_TRACKING_USERNAME": adminUser, "MLFLOW_TRACKING_PASSWORD": adminPass}
		code, rep, stderr := runAudit(t, creds, "--tracking-uri", authed.URL)
		assertSet(t, "basic-auth audit", findingSet(rep), []string{
			"MLG404 server/auth",
			"MLG408 server/cors",
			"MLG408 server/host",
			"MLG409 server/headers/X-Frame-Options",
		})
		if code != cli.ExitFindings || rep.Summary.Incomplete {
			t.Errorf("exit %d incomplete=%v, want 1 and complete; stderr:\n%s", code, rep.Summary.Incomplete, stderr)
		}
		for _, f := range rep.Findings {
			if strings.Contains(f.Message, "password1234") {
				t.Errorf("MLG404 message prints the password: %s", f.Message)
			}
		}

		// Without credentials: the server findings are kept, the data part
		// is missing, and the run says so (exit 3).
		code, rep, stderr = runAudit(t, nil, "--tracking-uri", authed.URL)
		if code != cli.ExitFailed || !rep.Summary.Incomplete {
			t.Errorf("unauthenticated audit: exit %d incomplete=%v, want 3 and incomplete", code, rep.Summary.Incomplete)
		}
		if !strings.Contains(stderr, "INCOMPLETE") || !strings.Contains(stderr, "requires authentication") {
			t.Errorf("unauthenticated audit: stderr lacks a clear message:\n%s", stderr)
		}
		// A 401 to the foreign-Host probe says nothing about the Host
		// check: no MLG408 server/host without credentials.
		assertSet(t, "unauthenticated audit", findingSet(rep), []string{
			"MLG404 server/auth",
			"MLG408 server/cors",
			"MLG409 server/headers/X-Frame-Options",
		})

		// Rotate the password: the default pair is refused, no MLG404.
		updatePassword(t, authed.URL, adminUser, adminPass, "admin", "An0ther-Str0ng-Pw!")
		_, rep, _ = runAudit(t, creds, "--tracking-uri", authed.URL)
		for _, f := range rep.Findings {
			if f.RuleID == "MLG404" {
				t.Errorf("MLG404 reported after the password was changed: %s", f.Message)
			}
		}
	})

	t.Run("server-down", func(t *testing.T) {
		port := testenv.FreePort(t)
		code, rep, stderr := runAudit(t, nil, "--tracking-uri", fmt.Sprintf("http://127.0.0.1:%d", port), "--timeout", "3s")
		if code != cli.ExitFailed || !rep.Summary.Incomplete || len(rep.Errors) == 0 {
			t.Errorf("server down: exit %d incomplete=%v errors=%v, want 3, incomplete, errors", code, rep.Summary.Incomplete, rep.Errors)
		}
		if !strings.Contains(stderr, "unreachable") {
			t.Errorf("server down: stderr lacks the reason:\n%s", stderr)
		}
	})
}

func authedJSON(t *testing.T, method, url, user, pass string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		t.Fatalf("%s %s: HTTP %d %s", method, url, resp.StatusCode, buf.String())
	}
}

func createUser(t *testing.T, base, admin, adminPass, user, pass string) {
	authedJSON(t, http.MethodPost, base+"/api/2.0/mlflow/users/create", admin, adminPass, map[string]string{"username": user, "password": pass})
}

func updatePassword(t *testing.T, base, admin, adminPass, user, pass string) {
	authedJSON(t, http.MethodPatch, base+"/api/2.0/mlflow/users/update-password", admin, adminPass, map[string]string{"username": user, "password": pass})
}

// assertDeletedMarked: secrets of the deleted run are reported as such,
// those of live runs are not.
func assertDeletedMarked(t *testing.T, what string, rep jsonReport, s seedInfo) {
	t.Helper()
	seen := false
	for _, f := range rep.Findings {
		if f.RuleID != "MLG201" {
			continue
		}
		marked := strings.Contains(f.Message, "the run is deleted") && strings.Contains(f.Message, "mlflow gc")
		inDeleted := strings.Contains(f.Path, "/runs/"+s.Runs["deleted"]+"/")
		seen = seen || inDeleted
		if marked != inDeleted {
			t.Errorf("%s: %s: deleted-run mark %v, want %v (%s)", what, f.Path, marked, inDeleted, f.Message)
		}
	}
	if !seen {
		t.Errorf("%s: no finding for the deleted run", what)
	}
}
