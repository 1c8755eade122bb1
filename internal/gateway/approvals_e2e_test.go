package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	modeldigest "github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

type pyResult struct {
	OK      bool            `json:"ok"`
	Value   json.RawMessage `json:"value"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
}

// runClient runs testdata/approvals.py as user with the real MLflow client.
func runClient(t *testing.T, h *harness, user string, steps ...[]any) []pyResult {
	t.Helper()
	b, _ := json.Marshal(steps)
	env := []string{"MLFLOW_TRACKING_URI=" + h.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0",
		"MLFLOW_TRACKING_USERNAME=" + user, "MLFLOW_TRACKING_PASSWORD=" + h.creds[user]}
	if user == "" { // straight to MLflow, around the gateway
		env = []string{"MLFLOW_TRACKING_URI=" + h.ml.URL}
	}
	out := testenv.RunPython(t, filepath.Join("testdata", "approvals.py"), env, string(b))
	var rs []pyResult
	if testenv.ScriptResult(t, out, &rs); len(rs) != len(steps) {
		t.Fatalf("%d results for %d steps:\n%s", len(rs), len(steps), out)
	}
	return rs
}

func step(a ...any) []any { return a }

// gate writes the registration gate's tags straight to the upstream MLflow,
// standing in for the gate.
func gate(t *testing.T, h *harness, name, version string, files map[string]string, verdict string) string {
	t.Helper()
	var m bytes.Buffer
	if err := modeldigest.WriteManifest(&m, files); err != nil {
		t.Fatal(err)
	}
	digest := modeldigest.ManifestDigest(files)
	for k, v := range map[string]string{approval.TagManifest: m.String(), approval.TagDigest: digest,
		approval.TagVerdict: verdict, approval.TagFindings: "no strict findings"} {
		h.ml.SetModelVersionTag(t, name, version, k, v)
	}
	return digest
}

// upstreamVersion reads a version straight from MLflow.
func upstreamVersion(t *testing.T, h *harness, name, version string) mvInfo {
	t.Helper()
	resp, err := http.Get(h.ml.URL + "/api/2.0/mlflow/model-versions/get?name=" + name + "&version=" + version)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		ModelVersion mvInfo `json:"model_version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.ModelVersion
}

func sha(s string) string { return fmt.Sprintf("%064x", []byte(s)) }

// apiCall calls the approvals API as user and decodes the approval.
func apiCall(t *testing.T, h *harness, method, path, user string, body any) (int, *store.Approval, string) {
	t.Helper()
	s := ""
	if method == "POST" {
		s = "{}"
	}
	if body != nil {
		b, _ := json.Marshal(body)
		s = string(b)
	}
	resp, out := h.do(t, method, "/mlflow-guard/api/approvals"+path, user, s, nil)
	var v struct {
		Approval *store.Approval `json:"approval"`
	}
	_ = json.Unmarshal([]byte(out), &v)
	return resp.StatusCode, v.Approval, out
}

func requireDenied105(t *testing.T, what string, r pyResult, reason string) {
	t.Helper()
	if r.OK || r.Code != "PERMISSION_DENIED" || !strings.Contains(r.Message, reason) {
		t.Errorf("%s: want MLG105 denial mentioning %q, got %+v", what, reason, r)
	}
}

func TestApprovalsEndToEnd(t *testing.T) {
	h := startHarnessWith(t, harnessOptions{Approvals: &ApprovalConfig{}})
	ctx := context.Background()
	setup := runClient(t, h, "alice", step("setup", "alice"))[0]
	if !setup.OK {
		t.Fatalf("setup: %+v", setup)
	}
	var ids struct {
		ExperimentID  string   `json:"experiment_id"`
		RunID         string   `json:"run_id"`
		Model         string   `json:"model"`
		Versions      []string `json:"versions"`
		Source        string   `json:"source"`
		LoggedModelID string   `json:"logged_model_id"`
		TraceID       string   `json:"trace_id"`
		Prompt        string   `json:"prompt"`
		PromptVersion string   `json:"prompt_version"`
	}
	if err := json.Unmarshal(setup.Value, &ids); err != nil || len(ids.Versions) != 4 || ids.TraceID == "" || ids.LoggedModelID == "" {
		t.Fatalf("setup: %v %s", err, setup.Value)
	}
	// The prompt is registered around the gateway: the request policies
	// refuse the client's placeholder prompt source (MLG301), which is
	// not what this test is about. alice gets it as its creator would.
	pp := runClient(t, h, "", step("register_prompt", "alice-prompt"))[0]
	if !pp.OK || json.Unmarshal(pp.Value, &ids) != nil {
		t.Fatalf("prompt: %+v", pp)
	}
	if err := h.st.AddGrant(ctx, "test", store.Grant{Principal: store.Principal{Kind: "user", Name: "alice"},
		ResourceKind: "registered_model", ResourceID: ids.Prompt, Permission: store.Manage}, nil); err != nil {
		t.Fatal(err)
	}
	mdl := ids.Model
	files := map[string]string{"MLmodel": sha("a"), "weights.bin": sha("w1")}
	d1 := gate(t, h, mdl, "1", files, approval.VerdictPass)
	gate(t, h, mdl, "2", map[string]string{"MLmodel": sha("a"), "weights.bin": sha("w2"), "extra.py": sha("x")}, approval.VerdictPass)
	gate(t, h, mdl, "3", files, approval.VerdictPass)
	gate(t, h, mdl, "4", files, approval.VerdictQuarantined)
	// bob reviews alice's models.
	for _, m := range []string{mdl, ids.Prompt} {
		if err := h.st.AddGrant(ctx, "test", store.Grant{Principal: store.Principal{Kind: "user", Name: "bob"},
			ResourceKind: "registered_model", ResourceID: m, Permission: store.Manage}, nil); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("reserved tags through the real client", func(t *testing.T) {
		const k = "mlflow-guard.approval"
		steps := [][]any{
			step("set_mv_tag", mdl, "1", k, "forged"),
			step("set_mv_tag", mdl, "1", "MLFLOW-GUARD.digest", "sha256:00"),
			step("del_mv_tag", mdl, "1", approval.TagDigest),
			step("set_rm_tag", mdl, approval.TagVerdict, "pass"),
			step("del_rm_tag", mdl, approval.TagVerdict),
			step("set_run_tag", ids.RunID, k, "x"),
			step("del_run_tag", ids.RunID, k),
			step("log_batch_tag", ids.RunID, k, "x"),
			step("create_run_tag", ids.ExperimentID, k, "x"),
			step("set_exp_tag", ids.ExperimentID, k, "x"),
			step("create_exp_tag", "alice-exp-2", k, "x"),
			step("create_rm_tag", "alice-new-model", k, "x"),
			step("create_mv_tag", mdl, ids.Source, ids.RunID, k, "x"),
			step("lm_tag", ids.LoggedModelID, k, "x"),
			step("lm_del_tag", ids.LoggedModelID, k),
			step("create_lm_tag", ids.ExperimentID, "lm2", k, "x"),
			step("prompt_tag", ids.Prompt, k, "x"),
			step("prompt_version_tag", ids.Prompt, ids.PromptVersion, k, "x"),
			// An ordinary tag still goes through.
			step("set_mv_tag", mdl, "1", "team", "fraud"),
		}
		rs := runClient(t, h, "alice", steps...)
		for i, r := range rs[:len(rs)-1] {
			requireDenied105(t, fmt.Sprint(steps[i]), r, "namespace")
		}
		if !rs[len(rs)-1].OK {
			t.Errorf("ordinary tag: %+v", rs[len(rs)-1])
		}
		// The client's trace-tag calls use admin-only v2 routes: as root.
		for i, r := range runClient(t, h, "root", step("set_trace_tag", ids.TraceID, k, "x"), step("del_trace_tag", ids.TraceID, k)) {
			requireDenied105(t, fmt.Sprint("trace tag ", i), r, "namespace")
		}
		if v := upstreamVersion(t, h, mdl, "1"); func() bool { _, ok := v.tag(approval.TagApproval); return ok }() {
			t.Errorf("a forged approval tag reached MLflow: %+v", v.Tags)
		}
	})

	t.Run("reserved tags as MLflow reads bodies, admins included", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/api/2.0/mlflow/model-versions/set-tag", `{"name":"` + mdl + `","version":"1","key":"\u006dlflow-guard.approval","value":"x"}`},
			{"POST", "/ajax-api/2.0/mlflow/model-versions/set-tag", `{"name":"` + mdl + `","version":"1","key":"mlflow-guard.approval","value":"x"}`},
			{"POST", "/api/2.0/mlflow/model-versions/set-tag", quoteJSON(`{"name":"` + mdl + `","version":"1","key":"mlflow-guard.approval","value":"x"}`)},
			{"POST", "/api/2.0/mlflow/runs/log-batch", `{"runId":"` + ids.RunID + `","tags":[{"key":"Mlflow-Guard.verdict","value":"pass"}]}`},
			{"POST", "/api/2.0/mlflow/registered-models/create", `{"name":"x-model","tags":[{"key":"mlflow-guard.x","value":"1"}]}`},
			{"PATCH", "/api/3.0/mlflow/traces/" + ids.TraceID + "/tags", `{"key":"mlflow-guard.approval","value":"x"}`},
			{"DELETE", "/api/2.0/mlflow/logged-models/" + ids.LoggedModelID + "/tags/mlflow-guard.approval", ``},
			{"PATCH", "/api/2.0/mlflow/logged-models/" + ids.LoggedModelID + "/tags", `{"tags":[{"key":"mlflow-guard.a","value":"x"}]}`},
			{"POST", "/api/3.0/mlflow/traces", `{"trace":{"trace_info":{"trace_location":{"mlflow_experiment":{"experiment_id":"` + ids.ExperimentID + `"}},"tags":{"mlflow-guard.approval":"x"}}}}`},
			{"PATCH", "/api/3.0/mlflow/datasets/d-1/tags", `{"tags":"{\"mlflow-guard.approval\":\"x\"}"}`},
			{"DELETE", "/api/3.0/mlflow/datasets/d-1/tags/mlflow-guard.approval", ``},
			{"DELETE", "/api/3.0/mlflow/traces/" + ids.TraceID + "/tags?key=mlflow-guard.approval", ``},
			{"POST", "/api/2.0/mlflow/experiments/set-experiment-tag", `{"experimentId":"` + ids.ExperimentID + `","key":"mlflow-guard.approval","value":"x"}`},
		} {
			resp, body := h.do(t, c.method, c.path, "root", c.body, nil)
			if resp.StatusCode != 403 || !strings.Contains(resp.Header.Get("X-Mlflow-Guard-Decision"), "rule=MLG105; reason=reserved-tag") ||
				!strings.Contains(body, `"error_code":"PERMISSION_DENIED"`) {
				t.Errorf("%s %s %s: %d %v %s", c.method, c.path, c.body, resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"), body)
			}
		}
	})

	t.Run("promotions", func(t *testing.T) {
		// The version's own creator, without an approval.
		rs := runClient(t, h, "alice",
			step("set_alias", mdl, "champion", "1"),
			step("transition", mdl, "1", "Production"),
			step("set_alias", mdl, "CHAMPION", "1"),
			step("prompt_alias", ids.Prompt, "production", ids.PromptVersion),
			step("set_alias", mdl, "canary", "1"), // not protected
		)
		for i, what := range []string{"requester's alias", "requester's stage", "case-variant alias", "prompt alias"} {
			requireDenied105(t, what, rs[i], "needs an approval")
		}
		if !rs[4].OK {
			t.Errorf("unprotected alias: %+v", rs[4])
		}
		// The UI's /ajax-api twin is the same row.
		resp, body := h.do(t, "POST", "/ajax-api/2.0/mlflow/registered-models/alias", "alice", `{"name":"`+mdl+`","alias":"Champion","version":"1"}`, nil)
		if resp.StatusCode != 403 || !strings.Contains(resp.Header.Get("X-Mlflow-Guard-Decision"), "rule=MLG105; reason=no-approval") {
			t.Errorf("ajax-api alias: %d %s", resp.StatusCode, body)
		}
		// Version numbers in another spelling than MLflow's are refused.
		resp, body = h.do(t, "POST", "/api/2.0/mlflow/registered-models/alias", "alice", `{"name":"`+mdl+`","alias":"champion","version":"01"}`, nil)
		if resp.StatusCode != 403 || !strings.Contains(body, "ambiguous") && !strings.Contains(body, "version numbers") {
			t.Errorf("version 01: %d %s", resp.StatusCode, body)
		}
		// Both alias and ALIAS: ambiguous, denied before anything else.
		resp, body = h.do(t, "POST", "/api/2.0/mlflow/registered-models/alias", "alice", `{"name":"`+mdl+`","alias":"canary","ALIAS":"champion","version":"1"}`, nil)
		if resp.StatusCode != 403 || !strings.Contains(body, "PERMISSION_DENIED") {
			t.Errorf("alias and ALIAS: %d %s", resp.StatusCode, body)
		}

		// A request, approved by the requester or by an admin for their own: refused.
		code, req1, body := apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "version": "1", "target": "alias:champion"})
		if code != 200 || req1 == nil || req1.Status != "pending" || req1.Digest != d1 {
			t.Fatalf("request: %d %s", code, body)
		}
		if code, _, body = apiCall(t, h, "POST", "/"+req1.ID+"/approve", "alice", map[string]any{}); code != 403 || !strings.Contains(body, "self-approval") && !strings.Contains(body, "second person") {
			t.Errorf("self-approval: %d %s", code, body)
		}
		code, rootReq, body := apiCall(t, h, "POST", "", "root", map[string]any{"name": mdl, "version": "3", "target": "alias:champion"})
		if code != 200 {
			t.Fatalf("root request: %d %s", code, body)
		}
		if code, _, body = apiCall(t, h, "POST", "/"+rootReq.ID+"/approve", "root", map[string]any{}); code != 403 || !strings.Contains(body, "second person") {
			t.Errorf("admin self-approval: %d %s", code, body)
		}
		// A quarantined version cannot even be requested.
		if code, _, body = apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "version": "4", "target": "alias:champion"}); code != 403 || !strings.Contains(body, "quarantined") {
			t.Errorf("quarantined request: %d %s", code, body)
		}
		// Still pending: the admin's promotion of their own request is refused.
		rr := runClient(t, h, "root", step("set_alias", mdl, "champion", "3"))
		requireDenied105(t, "admin self-promotion", rr[0], "pending")

		// bob approves alice's request; the approval for "champion" does
		// not cover "CHAMPION".
		code, ap, body := apiCall(t, h, "POST", "/"+req1.ID+"/approve", "bob", map[string]any{"reason": "reviewed"})
		if code != 200 || ap.Status != "approved" || ap.Approver != "bob" || ap.ExpiresAt.Sub(ap.DecidedAt) != 24*time.Hour {
			t.Fatalf("approve: %d %s", code, body)
		}
		rs = runClient(t, h, "alice",
			step("set_alias", mdl, "CHAMPION", "1"),
			step("set_alias", mdl, "champion", "1"),
			step("set_alias", mdl, "champion", "1"), // consumed: a second use is refused
			step("get_mv", mdl, "1"),
		)
		requireDenied105(t, "case variant with champion approved", rs[0], "needs an approval")
		if !rs[1].OK {
			t.Fatalf("approved promotion: %+v", rs[1])
		}
		requireDenied105(t, "consumed approval", rs[2], "already used")
		mv := upstreamVersion(t, h, mdl, "1")
		if !strings.Contains(strings.Join(mv.Aliases, ","), "champion") || strings.Contains(strings.Join(mv.Aliases, ","), "CHAMPION") {
			t.Errorf("aliases at MLflow: %v", mv.Aliases)
		}
		recTag, ok := mv.tag(approval.TagApproval)
		if !ok {
			t.Fatalf("no approval record on the version: %+v", mv.Tags)
		}
		// Verified with the key published at the well-known URL, no credentials.
		resp, pemBody := h.do(t, "GET", "/.well-known/mlflow-guard/approval-key.pem", "", "", nil)
		keys, err := approval.ParsePublicKeys([]byte(pemBody))
		if resp.StatusCode != 200 || err != nil {
			t.Fatalf("public key: %d %v", resp.StatusCode, err)
		}
		rec, err := approval.Decode(recTag, keys)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Requester != "alice" || rec.Approver != "bob" || rec.Digest != d1 || rec.Target != "alias:champion" || rec.PromotedAt.IsZero() ||
			rec.Check(time.Now()) != nil || rec.KeyID != approval.Fingerprint(keys[0]) {
			t.Errorf("record: %+v %v", rec, rec.Check(time.Now()))
		}
		if _, err := approval.Decode(recTag, nil); err == nil {
			t.Error("record verified without a key")
		}

		// A stale approval: approved with a one-second window, used later.
		_, req2, _ := apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "version": "2", "target": "alias:champion", "ttl_seconds": 1})
		if code, _, body = apiCall(t, h, "POST", "/"+req2.ID+"/approve", "bob", nil); code != 200 {
			t.Fatalf("approve 2: %d %s", code, body)
		}
		time.Sleep(1500 * time.Millisecond)
		// A digest that changed after approval: version 3 re-recorded by the gate.
		_, req3, _ := apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "version": "3", "target": "stage:production"})
		if code, _, body = apiCall(t, h, "POST", "/"+req3.ID+"/approve", "bob", nil); code != 200 {
			t.Fatalf("approve 3: %d %s", code, body)
		}
		gate(t, h, mdl, "3", map[string]string{"MLmodel": sha("a"), "weights.bin": sha("tampered")}, approval.VerdictPass)
		rs = runClient(t, h, "alice",
			step("set_alias", mdl, "champion", "2"),
			step("transition", mdl, "3", "Production"),
		)
		requireDenied105(t, "stale approval", rs[0], "expired")
		requireDenied105(t, "digest changed", rs[1], "digest")

		// Production with archiving: version 1 then 2, each approved.
		for _, v := range []string{"1", "2"} {
			_, r, _ := apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "version": v, "target": "stage:Production"})
			if code, _, body = apiCall(t, h, "POST", "/"+r.ID+"/approve", "bob", nil); code != 200 {
				t.Fatalf("approve stage %s: %d %s", v, code, body)
			}
			if rs = runClient(t, h, "alice", step("transition", mdl, v, "production")); !rs[0].OK {
				t.Fatalf("transition %s: %+v", v, rs[0])
			}
		}
		if s1, s2 := upstreamVersion(t, h, mdl, "1").CurrentStage, upstreamVersion(t, h, mdl, "2").CurrentStage; s1 != "Archived" || s2 != "Production" {
			t.Errorf("stages after promoting 2: v1 %s v2 %s (want Archived, Production)", s1, s2)
		}

		// A prompt alias, approved by bob.
		gate(t, h, ids.Prompt, ids.PromptVersion, map[string]string{"prompt.txt": sha("Hello")}, approval.VerdictPass)
		_, pr, body := apiCall(t, h, "POST", "", "alice", map[string]any{"name": ids.Prompt, "version": ids.PromptVersion, "target": "alias:production"})
		if pr == nil {
			t.Fatalf("prompt request: %s", body)
		}
		if code, _, body = apiCall(t, h, "POST", "/"+pr.ID+"/approve", "bob", nil); code != 200 {
			t.Fatalf("approve prompt: %d %s", code, body)
		}
		if rs = runClient(t, h, "alice", step("prompt_alias", ids.Prompt, "production", ids.PromptVersion)); !rs[0].OK {
			t.Errorf("approved prompt alias: %+v", rs[0])
		}

		// Renaming, deleting the model, a version or the alias that holds
		// something protected: denied without an approval, admins included.
		rs = runClient(t, h, "root",
			step("rename", mdl, "renamed"),
			step("delete_model", mdl),
			step("delete_version", mdl, "2"),
			step("del_alias", mdl, "champion"),
			step("delete_version", mdl, "4"), // holds nothing protected
		)
		for i, what := range []string{"rename", "delete model", "delete version", "delete alias"} {
			requireDenied105(t, what, rs[i], "needs an approval")
		}
		if !rs[4].OK {
			t.Errorf("deleting an unprotected version: %+v", rs[4])
		}
		// With an approval (alice asks, bob approves), the delete goes through.
		_, dr, body := apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "target": "delete-alias:champion"})
		if dr == nil {
			t.Fatalf("delete-alias request: %s", body)
		}
		apiCall(t, h, "POST", "/"+dr.ID+"/approve", "bob", nil)
		if rs = runClient(t, h, "alice", step("del_alias", mdl, "champion")); !rs[0].OK {
			t.Errorf("approved alias deletion: %+v", rs[0])
		}
	})

	t.Run("approvals page in Chromium", func(t *testing.T) { pageScenario(t, h, mdl) })
	t.Run("the CLI", func(t *testing.T) { cliScenario(t, h, mdl) })

	t.Run("listing and the audit log", func(t *testing.T) {
		resp, body := h.do(t, "GET", "/mlflow-guard/api/approvals?status=all", "bob", "", nil)
		var l struct {
			Approvals []store.Approval `json:"approvals"`
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &l) != nil || len(l.Approvals) < 6 {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		// A user with no grant on the model sees none of it.
		if err := h.st.CreateUser(ctx, "test", "carol", "carol password 1", false); err != nil {
			t.Fatal(err)
		}
		h.creds["carol"] = "carol password 1"
		if resp, body = h.do(t, "GET", "/mlflow-guard/api/approvals?status=all", "carol", "", nil); resp.StatusCode != 200 || strings.Contains(body, mdl) {
			t.Errorf("carol's list: %d %s", resp.StatusCode, body)
		}
		if code, _, body := apiCall(t, h, "POST", "/"+l.Approvals[0].ID+"/approve", "carol", nil); code != 404 {
			t.Errorf("carol approves: %d %s", code, body)
		}
		var buf strings.Builder
		if err := h.st.ExportAudit(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"action":"approvals.request"`, `"action":"approvals.approve"`, `"action":"approvals.consume"`,
			`"rule":"MLG105"`, `reserved-tag`, `self-approval`, `digest-changed`} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("audit log lacks %s", want)
			}
		}
		if _, probs, err := h.st.VerifyAudit(ctx); err != nil || len(probs) != 0 {
			t.Errorf("audit chain: %v %v", probs, err)
		}
	})
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
