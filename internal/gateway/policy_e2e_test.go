package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// A real GitHub token format; built at run time so the file holds no
// literal token.
var ghToken = "ghp_" + "hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES"

type policyResult struct {
	ExperimentID string            `json:"experiment_id"`
	RunID        string            `json:"run_id"`
	SecretParam  string            `json:"secret_param"`
	SecretTag    string            `json:"secret_tag"`
	Params       map[string]string `json:"params"`
	Tags         map[string]string `json:"tags"`
	RunName      string            `json:"run_name"`
}

func runPolicyFlow(t *testing.T, h *harness, mode, exp string) policyResult {
	t.Helper()
	env := []string{"MLFLOW_TRACKING_URI=" + h.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0",
		"MLFLOW_TRACKING_USERNAME=alice", "MLFLOW_TRACKING_PASSWORD=" + h.creds["alice"]}
	out := testenv.RunPython(t, filepath.Join("testdata", "policy_flow.py"), env, mode, exp, ghToken)
	var r policyResult
	testenv.ScriptResult(t, out, &r)
	return r
}

// The request policies through the real gateway, the pinned MLflow server
// and its Python client: benign look-alikes pass, a token is denied
// (MLG201) in deny mode and stored as a marker in redact mode, unsafe
// artifact locations (MLG205) and encoded traversals (MLG301) are denied,
// and the audit log records key and detector, never the token.
func TestGatewayPoliciesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MLflow")
	}
	h := startHarness(t) // no Policy: the defaults (all on, deny)
	redactEng, err := policy.New(policy.Config{Secrets: policy.SecretsConfig{Mode: policy.ModeRedact}})
	if err != nil {
		t.Fatal(err)
	}
	hr := startHarnessWith(t, harnessOptions{ML: h.ml, Policy: redactEng})

	benign := map[string]string{"max_tokens": "4096", "tokenizer": "bert-base-uncased", "primary_key_col": "customer_id",
		"git_commit": "3f9c2b1e8d7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e", "run_ref": "c0a8012e-7c1b-4f3a-9d2e-5b6a7c8d9e0f", "key_metric": "val_loss"}
	checkBenign := func(who string, r policyResult) {
		t.Helper()
		for k, v := range benign {
			if r.Params[k] != v {
				t.Errorf("%s: benign param %s = %q, want %q", who, k, r.Params[k], v)
			}
		}
		if r.Tags["team"] != "fraud" || r.RunName != "policy-run" {
			t.Errorf("%s: tags %v run name %q", who, r.Tags, r.RunName)
		}
	}

	// Deny mode (the default).
	d := runPolicyFlow(t, h, "deny", "policy-deny-exp")
	checkBenign("deny", d)
	if !strings.Contains(d.SecretParam, "MLG201") || !strings.Contains(d.SecretTag, "MLG201") {
		t.Errorf("deny mode: secret param %q, tag %q; want MLG201 denials", d.SecretParam, d.SecretTag)
	}
	if _, ok := d.Params["ci_setting"]; ok {
		t.Errorf("deny mode stored the secret param: %v", d.Params)
	}
	if _, ok := d.Tags["deploy_cred"]; ok {
		t.Errorf("deny mode stored the secret tag: %v", d.Tags)
	}
	// The raw shape: status, header, MLflow error JSON.
	resp, body := h.do(t, "POST", "/api/2.0/mlflow/runs/log-parameter", "alice",
		`{"run_id":"`+d.RunID+`","key":"other","value":"`+ghToken+`"}`, nil)
	if resp.StatusCode != 403 || resp.Header.Get("X-Mlflow-Guard-Decision") != "deny; rule=MLG201; reason=secret" ||
		!strings.Contains(body, `"rule_id":"MLG201"`) || !strings.Contains(body, `"error_code":"PERMISSION_DENIED"`) || strings.Contains(body, ghToken) {
		t.Errorf("secret param: %d %q %s", resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"), body)
	}

	// Redact mode: MLflow stores the marker, never the token.
	r := runPolicyFlow(t, hr, "redact", "policy-redact-exp")
	checkBenign("redact", r)
	if r.SecretParam != "stored" || r.SecretTag != "stored" {
		t.Errorf("redact mode: param %q tag %q", r.SecretParam, r.SecretTag)
	}
	if r.Params["ci_setting"] != "[REDACTED:github-token]" || r.Tags["deploy_cred"] != "[REDACTED:github-token]" {
		t.Errorf("redact mode stored param %q tag %q", r.Params["ci_setting"], r.Tags["deploy_cred"])
	}
	// Read back straight from MLflow, bypassing the gateway.
	raw, err := http.Get(h.ml.URL + "/api/2.0/mlflow/runs/get?run_id=" + r.RunID)
	if err != nil {
		t.Fatal(err)
	}
	rawBody, _ := io.ReadAll(raw.Body)
	raw.Body.Close()
	if raw.StatusCode != 200 || strings.Contains(string(rawBody), ghToken) || !strings.Contains(string(rawBody), "[REDACTED:github-token]") {
		t.Errorf("redacted run read from MLflow itself: %d %s", raw.StatusCode, rawBody)
	}

	policyDeny := func(name string, h *harness, method, path, user, reqBody, rule, reason string) {
		t.Helper()
		resp, body := h.do(t, method, path, user, reqBody, nil)
		var e struct {
			ErrorCode string `json:"error_code"`
			Message   string `json:"message"`
			RuleID    string `json:"rule_id"`
		}
		_ = json.Unmarshal([]byte(body), &e)
		if resp.StatusCode != 403 || e.ErrorCode != "PERMISSION_DENIED" || e.RuleID != rule ||
			resp.Header.Get("X-Mlflow-Guard-Decision") != "deny; rule="+rule+"; reason="+reason {
			t.Errorf("%s: %d %q %s", name, resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"), body)
		}
	}
	// Unsafe artifact locations, even for an admin (non-admins may not
	// choose one at all).
	policyDeny("file:///etc/ location", h, "POST", "/api/2.0/mlflow/experiments/create", "root",
		`{"name":"evil-etc","artifact_location":"file:///etc/"}`, "MLG205", "artifact-location")
	policyDeny("camelCase artifactLocation", h, "POST", "/api/2.0/mlflow/experiments/create", "root",
		`{"name":"evil-etc2","artifactLocation":"FILE:///etc/"}`, "MLG205", "artifact-location")
	// Encoded traversals the gateway's path hygiene cannot see (double
	// encoding, query parameters); a streamed route is judged on its URL.
	policyDeny("double-encoded traversal in the artifact proxy path", h, "GET",
		"/api/2.0/mlflow-artifacts/artifacts/"+d.ExperimentID+"/%252e%252e/%252e%252e/etc/passwd", "alice", "", "MLG301", "artifact-path")
	policyDeny("encoded traversal in get-artifact ?path=", h, "GET",
		"/get-artifact?path=..%252F..%252F..%252Fetc%252Fpasswd&run_uuid="+d.RunID, "alice", "", "MLG301", "artifact-path")
	policyDeny("traversal in artifacts/list ?path=", h, "GET",
		"/api/2.0/mlflow/artifacts/list?run_id="+d.RunID+"&path=%2e%2e%2f%2e%2e%2fetc", "alice", "", "MLG301", "artifact-path")
	// The experiment was not created.
	if resp, body := h.do(t, "GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=evil-etc", "root", "", nil); resp.StatusCode == 200 {
		t.Errorf("evil-etc exists: %s", body)
	}

	// Signed links (MLG305): alice gets one for her artifact; it works
	// without credentials, for that path and user only.
	art := d.ExperimentID + "/" + d.RunID + "/artifacts/docs/signed.txt"
	resp, body = h.do(t, "POST", signedURLRoute, "alice", `{"path":"`+art+`"}`, nil)
	var link struct{ URL, Expires string }
	if err := json.Unmarshal([]byte(body), &link); resp.StatusCode != 200 || err != nil || !strings.HasPrefix(link.URL, artifactPrefix+art+"?") {
		t.Fatalf("issue signed link: %d %s", resp.StatusCode, body)
	}
	if resp, body = h.do(t, "GET", link.URL, "", "", nil); resp.StatusCode != 200 || body != "signed deny" {
		t.Errorf("signed download: %d %q", resp.StatusCode, body)
	}
	policyDeny("signed link on another path", h, "GET", strings.Replace(link.URL, "signed.txt", "other.txt", 1), "", "", "MLG305", "signed-url")
	policyDeny("signed link for another user", h, "GET", strings.Replace(link.URL, "mlg_user=alice", "mlg_user=bob", 1), "", "", "MLG305", "signed-url")
	policyDeny("signed link with a forged signature", h, "GET", strings.Replace(link.URL, "mlg_sig=", "mlg_sig=A", 1), "", "", "MLG305", "signed-url")
	policyDeny("signed link with an extra parameter", h, "GET", link.URL+"&x=1", "", "", "MLG305", "signed-url")
	// bob may not download alice's artifact, so he gets no link for it.
	resp, body = h.do(t, "POST", signedURLRoute, "bob", `{"path":"`+art+`"}`, nil)
	if resp.StatusCode != 403 || !strings.Contains(resp.Header.Get("X-Mlflow-Guard-Decision"), "no-permission") {
		t.Errorf("bob's link for alice's artifact: %d %s", resp.StatusCode, body)
	}
	policyDeny("signed link for a traversal", h, "POST", signedURLRoute, "alice", `{"path":"`+d.ExperimentID+`/%2e%2e/x"}`, "MLG301", "artifact-path")

	// The audit log holds the denials with key and detector, never the
	// token; so does the redact gateway's for its rewrites. Same for the
	// gateways' JSON logs.
	for _, c := range []struct {
		name string
		h    *harness
		want []string
	}{
		{"deny", h, []string{`"rule":"MLG201"`, `detector=github-token mode=deny`, `key=\"ci_setting\"`, `key=\"deploy_cred\"`,
			`"rule":"MLG205"`, `"rule":"MLG301"`}},
		{"redact", hr, []string{`detector=github-token mode=redact`, `key=\"ci_setting\"`}},
	} {
		n, probs, err := c.h.st.VerifyAudit(context.Background())
		if err != nil || len(probs) != 0 {
			t.Fatalf("%s audit: %v %v", c.name, probs, err)
		}
		var buf strings.Builder
		if err := c.h.st.ExportAudit(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s audit log (%d rows) lacks %s", c.name, n, w)
			}
		}
		if strings.Contains(buf.String(), ghToken) || strings.Contains(buf.String(), ghToken[4:20]) {
			t.Errorf("%s audit log holds the token", c.name)
		}
		logb, err := os.ReadFile(c.h.log)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(logb), ghToken) {
			t.Errorf("%s gateway log holds the token", c.name)
		}
	}

	checkNoPolicy(t, h)
}

// checkNoPolicy: with NoPolicy (serve --no-policy) the same MLflow takes
// what the default gateway h refuses (a token in a param, a traversal in
// a query), while authentication, authorization and audit still apply.
func checkNoPolicy(t *testing.T, h *harness) {
	t.Helper()
	hn := startHarnessWith(t, harnessOptions{ML: h.ml, NoPolicy: true})
	var exp struct {
		ExperimentID string `json:"experiment_id"`
	}
	resp, body := hn.do(t, "POST", "/api/2.0/mlflow/experiments/create", "alice", `{"name":"no-policy-exp"}`, nil)
	if err := json.Unmarshal([]byte(body), &exp); resp.StatusCode != 200 || err != nil {
		t.Fatalf("no-policy: create experiment: %d %s", resp.StatusCode, body)
	}
	var run struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			} `json:"info"`
		} `json:"run"`
	}
	resp, body = hn.do(t, "POST", "/api/2.0/mlflow/runs/create", "alice", `{"experiment_id":"`+exp.ExperimentID+`"}`, nil)
	if err := json.Unmarshal([]byte(body), &run); resp.StatusCode != 200 || err != nil {
		t.Fatalf("no-policy: create run: %d %s", resp.StatusCode, body)
	}
	param := `{"run_id":"` + run.Run.Info.RunID + `","key":"ci_setting","value":"` + ghToken + `"}`
	// The default gateway refuses it (policies on by default) ...
	if resp, body = h.do(t, "POST", "/api/2.0/mlflow/runs/log-parameter", "root", param, nil); resp.StatusCode != 403 ||
		!strings.Contains(resp.Header.Get("X-Mlflow-Guard-Decision"), "rule=MLG201") {
		t.Errorf("default gateway took a secret param: %d %s", resp.StatusCode, body)
	}
	// ... the one without policies forwards it, and MLflow stores it.
	if resp, body = hn.do(t, "POST", "/api/2.0/mlflow/runs/log-parameter", "alice", param, nil); resp.StatusCode != 200 {
		t.Fatalf("no-policy: secret param: %d %q %s", resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"), body)
	}
	raw, err := http.Get(h.ml.URL + "/api/2.0/mlflow/runs/get?run_id=" + run.Run.Info.RunID)
	if err != nil {
		t.Fatal(err)
	}
	rawBody, _ := io.ReadAll(raw.Body)
	raw.Body.Close()
	if !strings.Contains(string(rawBody), ghToken) {
		t.Errorf("no-policy: MLflow does not hold the forwarded param: %s", rawBody)
	}
	// A traversal in a query parameter is no longer the gateway's MLG301;
	// MLflow answers it itself.
	resp, _ = hn.do(t, "GET", "/api/2.0/mlflow/artifacts/list?run_id="+run.Run.Info.RunID+"&path=%2e%2e%2f%2e%2e%2fetc", "alice", "", nil)
	if strings.Contains(resp.Header.Get("X-Mlflow-Guard-Decision"), "MLG301") {
		t.Errorf("no-policy: traversal still judged by the policy: %q", resp.Header.Get("X-Mlflow-Guard-Decision"))
	}
	// Authorization and authentication stay on: bob may not write to
	// alice's run, and nobody gets in without credentials.
	if resp, _ = hn.do(t, "POST", "/api/2.0/mlflow/runs/log-parameter", "bob", `{"run_id":"`+run.Run.Info.RunID+`","key":"b","value":"1"}`, nil); resp.StatusCode != 403 {
		t.Errorf("no-policy: bob wrote to alice's run: %d", resp.StatusCode)
	}
	if resp, _ = hn.do(t, "GET", "/api/2.0/mlflow/experiments/get?experiment_id="+exp.ExperimentID, "", "", nil); resp.StatusCode != 401 {
		t.Errorf("no-policy: anonymous read: %d", resp.StatusCode)
	}
	// The forwarded write is audited.
	var buf strings.Builder
	if err := hn.st.ExportAudit(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"action":"forward","route":"POST /api/2.0/mlflow/runs/log-parameter"`) {
		t.Errorf("no-policy: forwarded write not audited:\n%s", buf.String())
	}
}
