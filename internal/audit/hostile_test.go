package audit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/cli"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// Registered model names that stress MLflow's search filter grammar. Each
// "evil" one must be audited (MLG105, MLG101, and MLG106 with --deep);
// the decoys are what a wildcard or a wrong escape would match instead.
var (
	awkwardNames = []string{
		`o'brien`, `say "hi"`, `both ' and " quotes`, `back\slash`, `trail\`,
		`pct%_x`, `ünïcødé モデル`, `x' OR name LIKE '%`, `\'`,
	}
	decoyNames = []string{`o''brien`, `o\'brien`, `pct-decoy-x`, `say ""hi""`}
)

const (
	loaderModel = "loader-leak"
	// A GitHub token shape the secrets detectors know, used as an MLmodel
	// loader_module value: it must never be printed.
	loaderSecret = "ghp_L0aderM0duleS3cretAbCdEfGh1234567890"
)

// seedNames creates the models of awkwardNames and decoyNames on a real
// server with the real MLflow client and returns name -> version.
func seedNames(t *testing.T, trackingURI string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	spec, _ := json.Marshal(map[string]any{"evil": awkwardNames, "clean": decoyNames, "loader": loaderModel, "loader_module": loaderSecret})
	specFile, outFile := filepath.Join(dir, "spec.json"), filepath.Join(dir, "out.json")
	if err := os.WriteFile(specFile, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Python(t), filepath.Join(testenv.RepoRoot(), "internal/audit/testdata/seed_names.py"), specFile, outFile)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MLFLOW_TRACKING_URI="+trackingURI, "MLFLOW_DISABLE_TELEMETRY=true", "DO_NOT_TRACK=true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("seed_names.py: %v\n%s", err, lastBytes(out, 5000))
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]string
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func vpath(name, version string) string {
	return "registered-models/" + name + "/versions/" + version
}

// TestAuditHostileServer audits a real MLflow server whose registry holds
// awkward model names, then the same server behind a proxy that tampers
// with its artifact listings (answers a real server cannot be made to give).
func TestAuditHostileServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an MLflow server")
	}
	testenv.Python(t)
	srv := testenv.StartMLflow(t, testenv.MLflowOptions{})
	versions := seedNames(t, srv.URL)

	target, _ := url.Parse(srv.URL)
	restWant := []string{"MLG401 server/auth", "MLG108 " + vpath(loaderModel, versions[loaderModel]) + "/MLmodel"}
	// The token in the loader's MLmodel is a credential shipped inside the
	// model: the deep secrets pass reports it (MLG204), redacted.
	deepWant := []string{"MLG204 " + vpath(loaderModel, versions[loaderModel]) + "/artifacts/MLmodel"}
	for _, n := range awkwardNames {
		p := vpath(n, versions[n])
		restWant = append(restWant, "MLG105 "+p, "MLG101 "+p+"/MLmodel")
		deepWant = append(deepWant, "MLG106 "+p+"/artifacts/model.pkl")
	}
	noSecret := func(t *testing.T, rep jsonReport, stderr string) {
		t.Helper()
		all, _ := json.Marshal(rep)
		if strings.Contains(string(all)+stderr, loaderSecret) || strings.Contains(string(all)+stderr, loaderSecret[4:]) {
			t.Errorf("the loader_module secret is printed:\n%s\n%s", all, stderr)
		}
	}

	t.Run("rest", func(t *testing.T) {
		// Watch the version searches: each name a filter literal can
		// express must be found by its own filtered search (not only by
		// the unfiltered fallback), and exactly one unfiltered search
		// serves the name that no literal can express.
		var mu sync.Mutex
		filtered := map[string]bool{}
		unfiltered := 0
		rp := httputil.NewSingleHostReverseProxy(target)
		rp.ModifyResponse = func(resp *http.Response) error {
			if resp.Request.URL.Path != mlflowapi.PathSearchModelVersions {
				return nil
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			resp.Body = io.NopCloser(bytes.NewReader(b))
			var page struct {
				ModelVersions []struct{ Name string } `json:"model_versions"`
			}
			_ = json.Unmarshal(b, &page)
			mu.Lock()
			defer mu.Unlock()
			if !resp.Request.URL.Query().Has("filter") {
				unfiltered++
				return nil
			}
			for _, v := range page.ModelVersions {
				filtered[v.Name] = true
			}
			return nil
		}
		watch := httptest.NewServer(rp)
		defer watch.Close()
		code, rep, stderr := runAudit(t, nil, "--tracking-uri", watch.URL)
		for _, n := range append(append([]string{loaderModel}, awkwardNames...), decoyNames...) {
			_, quotable := mlflowapi.QuoteFilterValue(n)
			if quotable != filtered[n] {
				t.Errorf("model %q: found by a filtered search = %v, want %v", n, filtered[n], quotable)
			}
		}
		if unfiltered != 1 {
			t.Errorf("%d unfiltered version searches, want 1 (for the name with both quote characters)", unfiltered)
		}
		// No uniq: a model matched twice (a wildcard, a loose filter)
		// would report its MLG105 twice.
		assertSet(t, "awkward names", findingSet(rep), restWant)
		if code != cli.ExitFindings || rep.Summary.Incomplete {
			t.Errorf("exit %d incomplete=%v, want 1 and complete; stderr:\n%s", code, rep.Summary.Incomplete, stderr)
		}
		noSecret(t, rep, stderr)
		for _, f := range rep.Findings {
			if f.RuleID == "MLG108" && !strings.Contains(f.Message, "ghp_****") {
				t.Errorf("MLG108 message does not show the redacted loader_module: %s", f.Message)
			}
		}
	})

	t.Run("deep", func(t *testing.T) {
		code, rep, stderr := runAudit(t, nil, "--tracking-uri", srv.URL, "--deep")
		assertSet(t, "awkward names, deep", uniq(findingSet(rep)), append(append([]string{}, restWant...), deepWant...))
		if code != cli.ExitFindings || rep.Summary.Incomplete {
			t.Errorf("exit %d incomplete=%v, want 1 and complete; stderr:\n%s", code, rep.Summary.Incomplete, stderr)
		}
		noSecret(t, rep, stderr)
	})

	t.Run("deep-budget", func(t *testing.T) {
		// Past its budget the deep audit is partial: exit 3, each file
		// left out listed as a limit error.
		code, rep, stderr := runAudit(t, nil, "--tracking-uri", srv.URL, "--deep", "--deep-budget", "10")
		limits := 0
		for _, e := range rep.Errors {
			if e.Kind == "limit" && strings.Contains(e.Path, "/artifacts/") && strings.Contains(e.Message, "budget") {
				limits++
			}
		}
		if code != cli.ExitFailed || !rep.Summary.Incomplete || limits < len(awkwardNames) {
			t.Errorf("tiny budget: exit %d incomplete=%v limit errors=%d, want 3, incomplete, >= %d; stderr:\n%s", code, rep.Summary.Incomplete, limits, len(awkwardNames), stderr)
		}
	})

	// tamper serves the real server except artifact listings, which
	// listing rewrites (nil: forwarded).
	tamper := func(t *testing.T, listing func(w http.ResponseWriter, r *http.Request)) string {
		rp := httputil.NewSingleHostReverseProxy(target)
		p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mlflowapi.PathArtifactsProxy && r.URL.Query().Has("path") {
				listing(w, r)
				return
			}
			rp.ServeHTTP(w, r)
		}))
		t.Cleanup(p.Close)
		return p.URL
	}
	// resize forwards a listing and rewrites every file size.
	resize := func(size string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			resp, err := http.Get(srv.URL + r.URL.RequestURI())
			if err != nil {
				w.WriteHeader(502)
				return
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				w.WriteHeader(502)
				return
			}
			files, _ := body["files"].([]any)
			for _, f := range files {
				if m, ok := f.(map[string]any); ok && m["is_dir"] != true {
					m["file_size"] = json.RawMessage(size)
				}
			}
			_ = json.NewEncoder(w).Encode(body)
		}
	}
	listingFails := func(t *testing.T, uri, want string) {
		t.Helper()
		start := time.Now()
		code, rep, stderr := runAudit(t, nil, "--tracking-uri", uri, "--deep")
		hits := 0
		for _, e := range rep.Errors {
			if strings.HasSuffix(e.Path, "/artifacts") && strings.Contains(e.Message, want) {
				hits++
			}
		}
		if code != cli.ExitFailed || !rep.Summary.Incomplete || hits < len(awkwardNames) {
			t.Errorf("exit %d incomplete=%v, %d errors naming a version's artifacts with %q, want 3, incomplete, >= %d:\n%+v\nstderr:\n%s",
				code, rep.Summary.Incomplete, hits, want, len(awkwardNames), rep.Errors, stderr)
		}
		for _, f := range rep.Findings {
			if strings.Contains(f.Path, "/artifacts/") {
				t.Errorf("a tampered listing was still downloaded: %s", f.Path)
			}
		}
		if d := time.Since(start); d > time.Minute {
			t.Errorf("took %v", d)
		}
	}

	t.Run("negative-size", func(t *testing.T) {
		listingFails(t, tamper(t, resize(`-5`)), "has size -5")
	})
	t.Run("absurd-size", func(t *testing.T) {
		listingFails(t, tamper(t, resize(`"9223372036854775807"`)), "has size 9223372036854775807")
	})
	t.Run("endless-page-tokens", func(t *testing.T) {
		// Every page is empty and names a new next page.
		var n atomic.Int64
		uri := tamper(t, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"files":[],"next_page_token":"tok-%d"}`, n.Add(1))
		})
		listingFails(t, uri, "empty pages in a row")
		if n.Load() > int64(10*len(awkwardNames)+20) {
			t.Errorf("%d listing pages fetched: the client kept paging", n.Load())
		}
	})
}

// TestAuditNeverAnswers: a server that accepts connections and never
// replies must end the audit in bounded time, as incomplete.
func TestAuditNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never read or answered
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	uri := "http://" + ln.Addr().String()
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		// The overall deadline ends it, whatever the per-request timeout.
		{"deadline", []string{"--deadline", "2s"}, "deadline"},
		// The response-header timeout ends it: the REST reads are then
		// skipped, not each waited out.
		{"timeout", []string{"--timeout", "1s"}, "unreachable"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			code, rep, stderr := runAudit(t, nil, append([]string{"--tracking-uri", uri}, c.args...)...)
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
			if code != cli.ExitFailed || !rep.Summary.Incomplete || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d incomplete=%v, want 3, incomplete and %q; stderr:\n%s", code, rep.Summary.Incomplete, c.want, stderr)
			}
		})
	}
}

// TestAuditUsageErrors: bad durations and database URIs are usage errors.
func TestAuditUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--tracking-uri", "http://127.0.0.1:1", "--timeout", "0"},
		{"--tracking-uri", "http://127.0.0.1:1", "--timeout", "-1s"},
		{"--tracking-uri", "http://127.0.0.1:1", "--deadline", "0"},
		{"--tracking-uri", "http://127.0.0.1:1", "--deadline", "-5m"},
		{"--database-uri", "mysql://u@h/db"},
		{"--database-uri", "oracle+cx://h/db", "--tracking-uri", "http://127.0.0.1:1"},
		{"--database-uri", "no-scheme-at-all"},
		{"--database-uri", "sqlite:///"},
	} {
		var out, errb bytes.Buffer
		code := cli.Run(t.Context(), append([]string{"audit"}, args...), cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		if code != cli.ExitUsage {
			t.Errorf("audit %v: exit %d, want 2; stderr:\n%s", args, code, errb.String())
		}
		if out.Len() != 0 {
			t.Errorf("audit %v wrote a report on a usage error", args)
		}
	}
}
