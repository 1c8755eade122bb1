package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/policy"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

type harness struct {
	url   string
	st    *store.Store
	ml    *testenv.MLflowServer
	creds map[string]string
	token string
	log   string // path of the gateway's JSON log
}

// harnessOptions vary the gateway under test.
type harnessOptions struct {
	ML     *testenv.MLflowServer // share a running MLflow server (default: start one)
	Policy *policy.Engine        // request policies (default: the gateway's defaults)
	// Approvals configures four-eyes approvals; nil protects nothing, so
	// the client workflow may set its champion alias.
	Approvals *ApprovalConfig
	// NoPolicy turns the request policies off (serve --no-policy).
	NoPolicy bool
	// Clock replaces the gateway's clock (default time.Now).
	Clock func() time.Time
}

// startHarness runs the pinned MLflow server and the gateway in front of
// it, with users alice and bob and admin root.
func startHarness(t *testing.T) *harness {
	t.Helper()
	return startHarnessWith(t, harnessOptions{})
}

func startHarnessWith(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	ml := o.ML
	if ml == nil {
		ml = testenv.StartMLflow(t, testenv.MLflowOptions{})
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{st: st, ml: ml, creds: map[string]string{"alice": "alice password 1", "bob": "bob password 12", "root": "root password 12"}}
	for name, pw := range h.creds {
		if err := st.CreateUser(ctx, "test", name, pw, name == "root"); err != nil {
			t.Fatal(err)
		}
	}
	if h.token, _, err = st.CreateToken(ctx, "test", "bob", "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	up, _ := url.Parse(ml.URL)
	h.log = filepath.Join(t.TempDir(), "gateway.log")
	logf, err := os.Create(h.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	appr := ApprovalConfig{Protect: config.Policy{ProtectedStages: []string{}, ProtectedAliases: []string{}}}
	if o.Approvals != nil {
		appr = *o.Approvals
	}
	g, err := New(Config{Upstream: up, LoginFailLimit: 1000, StateCacheTTL: 200 * time.Millisecond, Policy: o.Policy, NoPolicy: o.NoPolicy, Approvals: appr}, st, slog.New(slog.NewJSONHandler(logf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if o.Clock != nil {
		g.now = o.Clock
	}
	sctx, cancel := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- g.Serve(sctx, ServerOptions{Listen: "127.0.0.1:0", Ready: func(a, _ string) { ready <- a }})
	}()
	select {
	case a := <-ready:
		h.url = "http://" + a
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return h
}

func (h *harness) do(t *testing.T, method, path, user string, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user == "token" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	} else if user != "" {
		req.SetBasicAuth(user, h.creds[user])
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

type workflowResult struct {
	ExperimentID string             `json:"experiment_id"`
	RunID        string             `json:"run_id"`
	Params       map[string]string  `json:"params"`
	Metrics      map[string]float64 `json:"metrics"`
	UserTag      string             `json:"user_tag"`
	UserID       string             `json:"user_id"`
	Artifact     string             `json:"artifact"`
	Artifacts    []string           `json:"artifacts"`
	AliasVersion string             `json:"alias_version"`
	Prediction   []int              `json:"prediction"`
	Experiments  []string           `json:"experiments"`
	Models       []string           `json:"models"`
	Runs         int                `json:"runs"`
	TraceID      string             `json:"trace_id"`
	TraceSpans   int                `json:"trace_spans"`
	Traces       int                `json:"traces"`
}

func runWorkflow(t *testing.T, h *harness, prefix string, env []string) workflowResult {
	t.Helper()
	env = append(env, "MLFLOW_TRACKING_URI="+h.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0", "USER=spoofed-os-user", "LOGNAME=spoofed-os-user")
	out := testenv.RunPython(t, filepath.Join("testdata", "workflow.py"), env, prefix)
	i := strings.LastIndex(out, "RESULT ")
	if i < 0 {
		t.Fatalf("no result:\n%s", out)
	}
	var r workflowResult
	line, _, _ := strings.Cut(out[i+len("RESULT "):], "\n")
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), &r); err != nil {
		t.Fatalf("result: %v\n%s", err, out)
	}
	return r
}

func TestGatewayEndToEnd(t *testing.T) {
	h := startHarness(t)

	// The real client, with Basic credentials (alice) and a token (bob).
	a := runWorkflow(t, h, "alice", []string{"MLFLOW_TRACKING_USERNAME=alice", "MLFLOW_TRACKING_PASSWORD=" + h.creds["alice"]})
	b := runWorkflow(t, h, "bob", []string{"MLFLOW_TRACKING_TOKEN=" + h.token})
	for _, c := range []struct {
		who string
		r   workflowResult
	}{{"alice", a}, {"bob", b}} {
		r := c.r
		if r.Params["alpha"] != "0.5" || r.Metrics["loss"] != 0.25 || r.Artifact != "hello "+c.who || r.AliasVersion != "1" ||
			len(r.Prediction) != 2 || r.Prediction[0] != 0 || r.Prediction[1] != 1 || r.Runs != 1 ||
			r.TraceID == "" || r.TraceSpans != 1 || r.Traces != 1 {
			t.Errorf("%s workflow: %+v", c.who, r)
		}
		// The run records the authenticated caller, not the OS user.
		if r.UserTag != c.who || r.UserID != c.who {
			t.Errorf("%s: mlflow.user=%q user_id=%q", c.who, r.UserTag, r.UserID)
		}
	}
	// Search results are filtered: bob's lists hold only his experiment and
	// model (not alice's, not the Default experiment).
	if strings.Join(b.Experiments, ",") != "bob-exp" || strings.Join(b.Models, ",") != "bob-model" {
		t.Errorf("bob sees experiments %v models %v", b.Experiments, b.Models)
	}
	if strings.Join(a.Experiments, ",") != "alice-exp" {
		t.Errorf("alice sees %v", a.Experiments)
	}

	deny := func(name string, resp *http.Response, body string, status int, code, reason string) {
		t.Helper()
		dec := resp.Header.Get("X-Mlflow-Guard-Decision")
		var e struct {
			ErrorCode string `json:"error_code"`
			Message   string `json:"message"`
			RuleID    string `json:"rule_id"`
		}
		_ = json.Unmarshal([]byte(body), &e)
		if resp.StatusCode != status || e.ErrorCode != code || !strings.HasPrefix(e.RuleID, "MLG") ||
			!strings.Contains(dec, "reason="+reason) || !strings.HasPrefix(dec, "deny; rule=MLG") {
			t.Errorf("%s: status %d header %q body %s", name, resp.StatusCode, dec, body)
		}
	}
	q := "?experiment_id=" + a.ExperimentID
	resp, body := h.do(t, "GET", "/api/2.0/mlflow/experiments/get"+q, "", "", nil)
	deny("no credentials", resp, body, 401, "UNAUTHENTICATED", "unauthenticated")
	if !strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), ","), "Basic") {
		t.Errorf("401 without WWW-Authenticate: %v", resp.Header)
	}
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/experiments/get"+q, "", "", map[string]string{"Authorization": "Basic " + "Ym9iOndyb25n"})
	deny("wrong password", resp, body, 401, "UNAUTHENTICATED", "unauthenticated")
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/experiments/get"+q, "token", "", nil)
	deny("bob reads alice's experiment", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/experiments/get"+q, "bob", "", map[string]string{"X-Forwarded-User": "alice", "X-Remote-User": "alice"})
	deny("spoofed identity header", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/runs/get?run_id="+a.RunID, "bob", "", nil)
	deny("bob reads alice's run", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	resp, body = h.do(t, "GET", "/api/2.0/mlflow-artifacts/artifacts/"+a.ExperimentID+"/"+a.RunID+"/artifacts/docs/notes.txt", "bob", "", nil)
	deny("bob downloads alice's artifact", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	resp, body = h.do(t, "GET", "/get-artifact?path=docs/notes.txt&run_uuid="+a.RunID, "bob", "", nil)
	deny("bob get-artifact alice's run", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/traces/"+a.TraceID, "bob", "", nil)
	deny("bob reads alice's trace", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	resp, body = h.do(t, "POST", "/api/3.0/mlflow/traces/search", "bob", `{"locations":[{"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"`+a.ExperimentID+`"}}]}`, nil)
	deny("bob searches alice's traces", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	resp, body = h.do(t, "POST", "/api/3.0/mlflow/traces/search", "bob", `{"locations":[{"type":"UC_SCHEMA","uc_schema":{"catalog_name":"c"}}]}`, nil)
	deny("trace location that is no experiment", resp, body, 403, "PERMISSION_DENIED", "ambiguous-request")
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/registered-models/get?name=alice-model", "bob", "", nil)
	deny("bob reads alice's model", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=alice-exp", "bob", "", nil)
	deny("bob get-by-name alice's experiment", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/not-a-route", "alice", "", nil)
	deny("unknown route", resp, body, 403, "PERMISSION_DENIED", "unknown-route")
	resp, body = h.do(t, "POST", "/graphql", "alice", `{"query":"{ __schema { types { name } } }"}`, nil)
	deny("graphql introspection for non-admin", resp, body, 403, "PERMISSION_DENIED", "graphql-unauthorizable")
	// Ambiguous bodies: the same field twice, or both spellings.
	for _, amb := range []string{
		`{"experiment_id":"` + b.ExperimentID + `","experiment_id":"` + a.ExperimentID + `","key":"k","value":"v"}`,
		`{"experiment_id":"` + b.ExperimentID + `","experimentId":"` + a.ExperimentID + `","key":"k","value":"v"}`,
		`{"experiment_id":"` + b.ExperimentID + `","Experiment_Id":"` + a.ExperimentID + `","key":"k","value":"v"}`,
	} {
		resp, body = h.do(t, "POST", "/api/2.0/mlflow/experiments/set-experiment-tag", "bob", amb, nil)
		deny("ambiguous body "+amb, resp, body, 403, "PERMISSION_DENIED", "ambiguous-request")
	}
	// run_id and run_uuid disagreeing.
	resp, body = h.do(t, "POST", "/api/2.0/mlflow/runs/set-tag", "bob", `{"run_id":"`+b.RunID+`","run_uuid":"`+a.RunID+`","key":"k","value":"v"}`, nil)
	deny("run_id/run_uuid disagree", resp, body, 403, "PERMISSION_DENIED", "ambiguous-request")
	// A DELETE's JSON body is what MLflow reads, whatever the Content-Type.
	resp, body = h.do(t, "DELETE", "/api/2.0/mlflow/registered-models/delete", "bob", `{"name":"alice-model"}`, map[string]string{"Content-Type": "text/plain"})
	deny("bob deletes alice's model (text/plain body)", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	// A double-encoded JSON string body is decoded as MLflow does.
	enc, _ := json.Marshal(`{"experiment_id":"` + a.ExperimentID + `","key":"k","value":"v"}`)
	resp, body = h.do(t, "POST", "/api/2.0/mlflow/experiments/set-experiment-tag", "bob", string(enc), nil)
	deny("double-encoded body", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	// Traversal in the artifact path.
	resp, body = h.do(t, "GET", "/api/2.0/mlflow-artifacts/artifacts/"+b.ExperimentID+"/..%2F"+a.ExperimentID+"/x", "bob", "", nil)
	deny("encoded traversal", resp, body, 403, "PERMISSION_DENIED", "path-not-canonical")
	// Choosing an artifact location is for admins.
	resp, body = h.do(t, "POST", "/api/2.0/mlflow/experiments/create", "bob", `{"name":"x","artifact_location":"mlflow-artifacts:/`+a.ExperimentID+`"}`, nil)
	deny("artifact_location", resp, body, 403, "PERMISSION_DENIED", "artifact-location")
	// Host allowlist (DNS rebinding).
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/experiments/get"+q, "alice", "", map[string]string{"Host": "evil.example"})
	deny("foreign Host", resp, body, 403, "PERMISSION_DENIED", "host-not-allowed")
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/experiments/get"+q, "alice", "", map[string]string{"Origin": "https://evil.example"})
	deny("foreign Origin", resp, body, 403, "PERMISSION_DENIED", "origin-not-allowed")

	// What is allowed still works, with the security headers on.
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/experiments/get"+q, "alice", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "alice-exp") {
		t.Fatalf("alice reads her experiment: %d %s", resp.StatusCode, body)
	}
	for _, hd := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "X-Request-Id"} {
		if resp.Header.Get(hd) == "" {
			t.Errorf("missing %s", hd)
		}
	}
	// The web UI and its static files come through for a logged-in user.
	resp, body = h.do(t, "GET", "/", "alice", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("UI: %d %v", resp.StatusCode, resp.Header)
	}
	if i := strings.Index(body, "static-files/"); i >= 0 {
		j := strings.IndexAny(body[i:], `"'`)
		if resp, _ = h.do(t, "GET", "/"+body[i:i+j], "alice", "", nil); resp.StatusCode != 200 {
			t.Errorf("UI asset %s: %d", body[i:i+j], resp.StatusCode)
		}
	} else {
		t.Errorf("UI page names no static file:\n%.500s", body)
	}
	if resp, _ = h.do(t, "GET", "/", "", "", nil); resp.StatusCode != 401 {
		t.Errorf("UI without login: %d", resp.StatusCode)
	}
	// A grant opens alice's experiment to bob, for reading only.
	if err := h.st.AddGrant(context.Background(), "test", store.Grant{Principal: store.Principal{Kind: "user", Name: "bob"},
		ResourceKind: "experiment", ResourceID: a.ExperimentID, Permission: store.Read}, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // past the state cache's TTL
	if resp, body = h.do(t, "GET", "/api/2.0/mlflow/runs/get?run_id="+a.RunID, "token", "", nil); resp.StatusCode != 200 {
		t.Fatalf("bob with READ: %d %s", resp.StatusCode, body)
	}
	resp, body = h.do(t, "POST", "/api/2.0/mlflow/runs/set-tag", "token", `{"run_id":"`+a.RunID+`","key":"k","value":"v"}`, nil)
	deny("bob writes with READ only", resp, body, 403, "PERMISSION_DENIED", "no-permission")
	// Admin sees everything, GraphQL included.
	if resp, body = h.do(t, "POST", "/graphql", "root", `{"query":"{ __typename }"}`, nil); resp.StatusCode != 200 {
		t.Fatalf("admin graphql: %d %s", resp.StatusCode, body)
	}
	// The audit chain holds the creator grants, the writes and the denials, and verifies.
	n, probs, err := h.st.VerifyAudit(context.Background())
	if err != nil || len(probs) != 0 {
		t.Fatalf("audit: %v %v", probs, err)
	}
	var buf strings.Builder
	_ = h.st.ExportAudit(context.Background(), &buf)
	for _, want := range []string{`"action":"grants.add","route":"POST /api/2.0/mlflow/experiments/create"`, `"action":"deny"`, `"action":"forward","route":"POST /api/2.0/mlflow/runs/log-batch"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("audit log (%d rows) lacks %s", n, want)
		}
	}

	// Fail closed. Upstream gone: a request that needs a lookup is denied,
	// one that does not gets an error, never unchecked data; readyz says so.
	h.ml.Stop()
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/runs/get?run_id=0123456789abcdef0123456789abcdef", "bob", "", nil)
	deny("lookup with the upstream down", resp, body, 403, "PERMISSION_DENIED", "lookup-failed")
	if resp, _ = h.do(t, "GET", "/api/2.0/mlflow/experiments/get"+q, "alice", "", nil); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("upstream down: %d", resp.StatusCode)
	}
	if resp, body = h.do(t, "GET", "/readyz", "", "", nil); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "upstream") {
		t.Errorf("readyz with upstream down: %d %s", resp.StatusCode, body)
	}
	if _, probs, err := h.st.VerifyAudit(context.Background()); err != nil || len(probs) != 0 {
		t.Fatalf("audit after upstream loss: %v %v", probs, err)
	}
	// Store gone: nothing can be checked, so everything is refused.
	h.st.Close()
	time.Sleep(300 * time.Millisecond) // past the state cache's TTL
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/experiments/get"+q, "token", "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(resp.Header.Get("X-Mlflow-Guard-Decision"), "store-unavailable") {
		t.Errorf("store down: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}
