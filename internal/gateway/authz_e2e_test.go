package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

type authzIDs struct {
	ExperimentID  string `json:"experiment_id"`
	RunID         string `json:"run_id"`
	LoggedModelID string `json:"logged_model_id"`
	TraceID       string `json:"trace_id"`
}

// TestGatewayAuthzResources: bob, not an admin, holds READ on one
// experiment (and one of two registered models). Through the gateway in
// front of the real MLflow server, the MLflow UI's own GraphQL queries load
// that experiment's runs and are denied for the other experiment; logged
// models and traces of the granted experiment are readable with the real
// client and those of the other are not; and every newly covered route
// class refuses what bob holds no grant for.
func TestGatewayAuthzResources(t *testing.T) {
	testenv.SkipIfShort(t, "MLflow")
	h := startHarness(t)
	env := []string{"MLFLOW_TRACKING_URI=" + h.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0",
		"MLFLOW_TRACKING_USERNAME=root", "MLFLOW_TRACKING_PASSWORD=" + h.creds["root"]}
	var ids map[string]authzIDs
	testenv.ScriptResult(t, testenv.RunPython(t, filepath.Join("testdata", "authz_resources.py"), env, "setup"), &ids)
	g, o := ids["granted"], ids["other"]
	if g.RunID == "" || o.TraceID == "" || g.LoggedModelID == "" {
		t.Fatalf("setup: %+v", ids)
	}
	ctx := context.Background()
	grant := func(kind, id string, p store.Permission) {
		t.Helper()
		if err := h.st.AddGrant(ctx, "test", store.Grant{Principal: store.Principal{Kind: "user", Name: "bob"},
			ResourceKind: kind, ResourceID: id, Permission: p}, nil); err != nil {
			t.Fatal(err)
		}
	}
	grant("experiment", g.ExperimentID, store.Read)
	grant("registered_model", "authz-model-readable", store.Read)

	deny := func(name string, resp *http.Response, body, reason string) {
		t.Helper()
		dec := resp.Header.Get("X-Mlflow-Guard-Decision")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(dec, "reason="+reason) || !strings.Contains(body, `"PERMISSION_DENIED"`) {
			t.Errorf("%s: want 403 %s, got %d %q %.300s", name, reason, resp.StatusCode, dec, body)
		}
	}
	allow := func(name string, resp *http.Response, body string) {
		t.Helper()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: want 200, got %d %q %.300s", name, resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"), body)
		}
	}

	// The UI's GraphQL queries, exactly as its bundle holds them (and with
	// the __typename fields Apollo adds).
	qs := uiQueries(t)
	gql := func(op string, vars any, typename bool) (*http.Response, string) {
		q := qs[op]
		if q == "" {
			t.Fatalf("UI operation %s not in the bundle", op)
		}
		if typename {
			q = withTypename(q)
		}
		b, _ := json.Marshal(map[string]any{"operationName": op, "query": q, "variables": vars})
		return h.do(t, "POST", "/graphql", "bob", string(b), nil)
	}
	for _, typename := range []bool{false, true} {
		resp, body := gql("MlflowGetExperimentQuery", map[string]any{"input": map[string]any{"experimentId": g.ExperimentID}}, typename)
		allow("graphql get granted experiment", resp, body)
		if !strings.Contains(body, `"authz-granted"`) || strings.Contains(body, `"errors": [`) {
			t.Errorf("graphql experiment: %s", body)
		}
		resp, body = gql("MlflowGetExperimentQuery", map[string]any{"input": map[string]any{"experimentId": o.ExperimentID}}, typename)
		deny("graphql get other experiment", resp, body, "no-permission")

		resp, body = gql("SearchRuns", map[string]any{"data": map[string]any{"experimentIds": []string{g.ExperimentID}}}, typename)
		allow("graphql search runs of granted experiment", resp, body)
		var sr struct {
			Data struct {
				MlflowSearchRuns struct {
					Runs []struct {
						Info          struct{ RunUUID string }
						ModelVersions []struct{ Name string }
					}
				}
			}
		}
		_ = json.Unmarshal([]byte(body), &sr)
		runs := sr.Data.MlflowSearchRuns.Runs
		if len(runs) != 1 || runs[0].Info.RunUUID != g.RunID || len(runs[0].ModelVersions) != 1 || runs[0].ModelVersions[0].Name != "authz-model-readable" {
			t.Errorf("graphql search runs (model versions filtered to readable models): %s", body)
		}
		resp, body = gql("SearchRuns", map[string]any{"data": map[string]any{"experimentIds": []string{o.ExperimentID}}}, typename)
		deny("graphql search runs of other experiment", resp, body, "no-permission")
		resp, body = gql("SearchRuns", map[string]any{"data": map[string]any{"experimentIds": []string{g.ExperimentID, o.ExperimentID}}}, typename)
		deny("graphql search runs of both experiments", resp, body, "no-permission")

		resp, body = gql("GetRun", map[string]any{"data": map[string]any{"runId": g.RunID}}, typename)
		allow("graphql get granted run", resp, body)
		if !strings.Contains(body, g.RunID) || !strings.Contains(body, "authz-model-readable") || strings.Contains(body, "authz-model-hidden") {
			t.Errorf("graphql get run: %s", body)
		}
		resp, body = gql("GetRun", map[string]any{"data": map[string]any{"runId": o.RunID}}, typename)
		deny("graphql get other run", resp, body, "no-permission")

		resp, body = gql("GetMetricHistoryBulkInterval", map[string]any{"data": map[string]any{"runIds": []string{g.RunID}, "metricKey": "loss"}}, typename)
		allow("graphql metric history of granted run", resp, body)
		if strings.Count(body, `"loss"`) != 3 {
			t.Errorf("graphql metric history: %s", body)
		}
		resp, body = gql("GetMetricHistoryBulkInterval", map[string]any{"data": map[string]any{"runIds": []string{g.RunID, o.RunID}, "metricKey": "loss"}}, typename)
		deny("graphql metric history including other run", resp, body, "no-permission")
	}
	// GraphQL shapes the gateway refuses for non-admins.
	for name, q := range map[string]string{
		"introspection":               `{"query":"{ __schema { types { name } } }"}`,
		"unknown field":               `{"query":"{ mlflowGetExperiment(input: {experimentId: \"` + g.ExperimentID + `\"}) { experiment { secretField } } }"}`,
		"batch":                       `[{"query":"{ test(inputString: \"a\") { output } }"}]`,
		"hidden in a fragment":        `{"query":"{ ...F } fragment F on Query { mlflowGetRun(input: {runId: \"` + o.RunID + `\"}) { run { info { runId } } } }"}`,
		"model versions without name": `{"query":"{ mlflowSearchModelVersions(input: {}) { modelVersions { version } } }"}`,
	} {
		resp, body := h.do(t, "POST", "/graphql", "bob", q, nil)
		if name == "hidden in a fragment" {
			deny("graphql "+name, resp, body, "no-permission")
		} else {
			deny("graphql "+name, resp, body, "graphql-unauthorizable")
		}
	}
	// Searched model versions are filtered by model.
	resp, body := h.do(t, "POST", "/graphql", "bob", `{"query":"{ mlflowSearchModelVersions(input: {filter: \"name LIKE 'authz-model-%'\"}) { modelVersions { name version } } }"}`, nil)
	allow("graphql search model versions", resp, body)
	if !strings.Contains(body, "authz-model-readable") || strings.Contains(body, "authz-model-hidden") {
		t.Errorf("graphql search model versions not filtered: %s", body)
	}
	// An admin's answer is not filtered.
	resp, body = h.do(t, "POST", "/graphql", "root", `{"query":"{ mlflowSearchModelVersions(input: {filter: \"name LIKE 'authz-model-%'\"}) { modelVersions { name version } } }"}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "authz-model-hidden") {
		t.Errorf("admin graphql: %d %s", resp.StatusCode, body)
	}

	// Logged models and traces through the real client: the granted
	// experiment's are readable, the other's are not.
	probe, _ := json.Marshal([][2]string{{"logged_model", g.LoggedModelID}, {"logged_model", o.LoggedModelID}, {"trace", g.TraceID}, {"trace", o.TraceID}})
	bobEnv := []string{"MLFLOW_TRACKING_URI=" + h.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0", "MLFLOW_TRACKING_TOKEN=" + h.token}
	var got map[string]string
	testenv.ScriptResult(t, testenv.RunPython(t, filepath.Join("testdata", "authz_resources.py"), bobEnv, "read", string(probe)), &got)
	if got[g.LoggedModelID] != "ok" || got[g.TraceID] != "ok" || got[o.LoggedModelID] != "PERMISSION_DENIED" || got[o.TraceID] != "PERMISSION_DENIED" {
		t.Errorf("client reads: %v", got)
	}
	// A grant on the other experiment's trace itself (not its experiment)
	// opens just that trace.
	grant("trace", o.TraceID, store.Read)
	time.Sleep(300 * time.Millisecond) // past the state cache's TTL
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/traces/"+o.TraceID+"/info", "bob", "", nil)
	allow("v2 trace info with a trace grant", resp, body)
	resp, body = h.do(t, "PATCH", "/api/2.0/mlflow/traces/"+o.TraceID+"/tags", "bob", `{"key":"k","value":"v"}`, nil)
	deny("v2 trace tag with READ on the trace", resp, body, "no-permission")

	// Each newly covered route class, for what bob holds no grant on.
	a3 := "/ajax-api/3.0/mlflow/"
	a2 := "/ajax-api/2.0/mlflow/"
	for _, c := range []struct{ name, method, path, body, reason string }{
		{"v2 trace search", "GET", "/api/2.0/mlflow/traces?experiment_ids=" + o.ExperimentID, "", "no-permission"},
		{"v2 trace search naming no experiment", "GET", "/api/2.0/mlflow/traces?max_results=5", "", "missing-resource-id"},
		{"v2 start trace", "POST", "/api/2.0/mlflow/traces", `{"experiment_id":"` + o.ExperimentID + `","timestamp_ms":1}`, "no-permission"},
		{"v2 trace info", "GET", "/api/2.0/mlflow/traces/" + g.TraceID + "x/info", "", "lookup-failed"},
		{"v2 end trace with READ", "PATCH", "/api/2.0/mlflow/traces/" + g.TraceID, `{"timestamp_ms":2,"status":"OK"}`, "no-permission"},
		{"v2 delete traces", "POST", "/api/2.0/mlflow/traces/delete-traces", `{"experiment_id":"` + g.ExperimentID + `","max_timestamp_millis":1}`, "no-permission"},
		{"link traces to a run", "POST", "/api/2.0/mlflow/traces/link-to-run", `{"trace_ids":["` + g.TraceID + `"],"run_id":"` + o.RunID + `"}`, "no-permission"},
		{"link prompts to a trace", "POST", "/api/2.0/mlflow/traces/link-prompts", `{"trace_id":"` + g.TraceID + `","prompt_versions":[{"name":"p","version":"1"}]}`, "no-permission"},
		{"trace metrics", "POST", "/api/3.0/mlflow/traces/metrics", `{"experiment_ids":["` + o.ExperimentID + `"],"view_type":"TRACES","metric_name":"trace_count"}`, "no-permission"},
		{"trace artifact", "GET", a2 + "get-trace-artifact?request_id=" + o.TraceID + "x", "", "lookup-failed"},
		{"logged model files", "GET", a2 + "logged-models/" + o.LoggedModelID + "/artifacts/files?artifact_file_path=MLmodel", "", "no-permission"},
		{"logged model search", "POST", "/api/2.0/mlflow/logged-models/search", `{"experiment_ids":["` + o.ExperimentID + `"]}`, "no-permission"},
		{"metric history bulk", "GET", a2 + "metrics/get-history-bulk?run_id=" + o.RunID + "&metric_key=loss", "", "no-permission"},
		{"upload artifact with READ", "POST", a2 + "upload-artifact?run_uuid=" + g.RunID + "&path=x.txt", "hello", "no-permission"},
		{"promptlab run", "POST", a2 + "runs/create-promptlab-run", `{"experiment_id":"` + o.ExperimentID + `"}`, "no-permission"},
		{"search datasets", "POST", a2 + "experiments/search-datasets", `{"experiment_ids":["` + o.ExperimentID + `"]}`, "no-permission"},
		{"evaluation datasets search", "POST", "/api/3.0/mlflow/datasets/search", `{"experiment_ids":["` + o.ExperimentID + `"]}`, "no-permission"},
		{"evaluation dataset create", "POST", "/api/3.0/mlflow/datasets/create", `{"name":"d","experiment_ids":["` + g.ExperimentID + `"]}`, "no-permission"},
		{"evaluation dataset that does not exist", "GET", "/api/3.0/mlflow/datasets/d-123", "", "lookup-failed"},
		{"scorers", "GET", "/api/3.0/mlflow/scorers/list?experiment_id=" + o.ExperimentID, "", "no-permission"},
		{"scorers across everything", "GET", "/api/3.0/mlflow/scorers/list", "", "missing-resource-id"},
		{"scorer register", "POST", "/api/3.0/mlflow/scorers/register", `{"experiment_id":"` + g.ExperimentID + `","name":"s","serialized_scorer":"{}"}`, "admin-only"},
		{"prompt optimization search", "GET", "/api/3.0/mlflow/prompt-optimization/jobs/search?experiment_id=" + o.ExperimentID, "", "no-permission"},
		{"prompt optimization job", "GET", "/api/3.0/mlflow/prompt-optimization/jobs/no-such-job", "", "lookup-failed"},
		{"prompt optimization create", "POST", "/api/3.0/mlflow/prompt-optimization/jobs", `{"experiment_id":"` + g.ExperimentID + `","source_prompt_uri":"prompts:/p/1"}`, "no-permission"},
		{"prompt optimization odd uri", "POST", "/api/3.0/mlflow/prompt-optimization/jobs", `{"experiment_id":"` + g.ExperimentID + `","source_prompt_uri":"prompts:/a/b/c"}`, "ambiguous-request"},
		{"webhook create", "POST", "/api/2.0/mlflow/webhooks", `{"name":"w","url":"https://example.com/h","events":[{"entity":"registered_model","action":"created"}]}`, "admin-only"},
		{"gateway endpoint by name", "GET", "/api/3.0/mlflow/gateway/endpoints/get?endpoint_id=e-1&name=other", "", "ambiguous-request"},
		{"gateway endpoint by a repeated name", "GET", "/api/3.0/mlflow/gateway/endpoints/get?endpoint_id=e-1&name=a&name=b", "", "ambiguous-request"},
		{"gateway endpoint create", "POST", "/api/3.0/mlflow/gateway/endpoints/create", `{"name":"e"}`, "admin-only"},
		{"gateway secrets", "GET", "/api/3.0/mlflow/gateway/secrets/list", "", "admin-only"},
		{"gateway invocation of an unknown endpoint", "POST", "/gateway/nope/mlflow/invocations", `{"inputs":[1]}`, "lookup-failed"},
		{"gateway chat naming no endpoint", "POST", "/gateway/openai/v1/chat/completions", `{"messages":[]}`, "missing-resource-id"},
		{"jobs", "GET", a3 + "jobs/j-1", "", "admin-only"},
		{"online scoring config", "PUT", "/api/3.0/mlflow/scorers/online-config", `{"experiment_id":"` + g.ExperimentID + `","name":"s","sample_rate":0.5}`, "no-permission"},
	} {
		resp, body := h.do(t, c.method, c.path, "bob", c.body, nil)
		deny(c.name, resp, body, c.reason)
	}
	// What the grant covers on those routes is forwarded.
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/traces?experiment_ids="+g.ExperimentID, "bob", "", nil)
	allow("v2 trace search of granted experiment", resp, body)
	if !strings.Contains(body, g.TraceID) {
		t.Errorf("v2 trace search: %s", body)
	}
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/scorers/list?experiment_id="+g.ExperimentID, "bob", "", nil)
	allow("scorers of granted experiment", resp, body)
	resp, body = h.do(t, "GET", a2+"metrics/get-history-bulk?run_id="+g.RunID+"&metric_key=loss", "bob", "", nil)
	allow("metric history bulk of granted run", resp, body)

	// Webhooks: a grant on one webhook; the list shows only that one.
	var wh [2]string
	for i, n := range []string{"wh-granted", "wh-other"} {
		// Set up directly at MLflow (admin setup, not under test; MLflow
		// resolves a hook's host, so an address literal: no DNS here).
		resp, body = upstreamPost(t, h, "/api/2.0/mlflow/webhooks",
			`{"name":"`+n+`","url":"https://93.184.216.34/hook","events":[{"entity":"REGISTERED_MODEL","action":"CREATED"}]}`)
		var w struct {
			Webhook struct {
				WebhookID string `json:"webhook_id"`
			} `json:"webhook"`
		}
		if err := json.Unmarshal([]byte(body), &w); err != nil || w.Webhook.WebhookID == "" {
			t.Fatalf("admin creates webhook: %d %s", resp.StatusCode, body)
		}
		wh[i] = w.Webhook.WebhookID
	}
	grant("webhook", wh[0], store.Read)
	time.Sleep(300 * time.Millisecond)
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/webhooks/"+wh[0], "bob", "", nil)
	allow("granted webhook", resp, body)
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/webhooks/"+wh[1], "bob", "", nil)
	deny("other webhook", resp, body, "no-permission")
	resp, body = h.do(t, "PATCH", "/api/2.0/mlflow/webhooks/"+wh[0], "bob", `{"url":"https://evil.example/h"}`, nil)
	deny("webhook update with READ", resp, body, "no-permission")
	resp, body = h.do(t, "POST", "/api/2.0/mlflow/webhooks/"+wh[0]+"/test", "bob", `{}`, nil)
	deny("webhook test with READ", resp, body, "no-permission")
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/webhooks", "bob", "", nil)
	allow("webhook list", resp, body)
	if !strings.Contains(body, wh[0]) || strings.Contains(body, wh[1]) {
		t.Errorf("webhook list not filtered: %s", body)
	}
	resp, body = h.do(t, "GET", "/api/2.0/mlflow/webhooks", "root", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, wh[0]) || !strings.Contains(body, wh[1]) {
		t.Errorf("admin webhook list: %s", body)
	}
	// Evaluation datasets by id resolve to the experiments they are linked
	// to: READ on any of them reads, changes need EDIT on all of them.
	dsG := upstreamJSON(t, h, "/api/3.0/mlflow/datasets/create", `{"name":"ds-granted","experiment_ids":["`+g.ExperimentID+`"]}`, "dataset", "dataset_id")
	dsO := upstreamJSON(t, h, "/api/3.0/mlflow/datasets/create", `{"name":"ds-other","experiment_ids":["`+o.ExperimentID+`"]}`, "dataset", "dataset_id")
	dsBoth := upstreamJSON(t, h, "/api/3.0/mlflow/datasets/create", `{"name":"ds-both","experiment_ids":["`+g.ExperimentID+`","`+o.ExperimentID+`"]}`, "dataset", "dataset_id")
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/datasets/"+dsG, "bob", "", nil)
	allow("dataset of the granted experiment", resp, body)
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/datasets/"+dsBoth+"/records", "bob", "", nil)
	allow("records of a dataset shared with the granted experiment", resp, body)
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/datasets/"+dsO, "bob", "", nil)
	deny("dataset of the other experiment", resp, body, "no-permission")
	resp, body = h.do(t, "PATCH", "/api/3.0/mlflow/datasets/"+dsG+"/tags", "bob", `{"tags":"{\"k\":\"v\"}"}`, nil)
	deny("dataset tags with READ", resp, body, "no-permission")
	resp, body = h.do(t, "POST", "/api/3.0/mlflow/datasets/"+dsG+"/add-experiments", "bob", `{"experiment_ids":["`+o.ExperimentID+`"]}`, nil)
	deny("link a dataset to the other experiment", resp, body, "no-permission")

	// Issues by id resolve to their experiment.
	isG := upstreamJSON(t, h, "/api/3.0/mlflow/issues", `{"experiment_id":"`+g.ExperimentID+`","name":"i-granted","description":"d","status":"pending"}`, "issue", "issue_id")
	isO := upstreamJSON(t, h, "/api/3.0/mlflow/issues", `{"experiment_id":"`+o.ExperimentID+`","name":"i-other","description":"d","status":"pending"}`, "issue", "issue_id")
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/issues/"+isG, "bob", "", nil)
	allow("issue of the granted experiment", resp, body)
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/issues/"+isO, "bob", "", nil)
	deny("issue of the other experiment", resp, body, "no-permission")
	resp, body = h.do(t, "PATCH", "/api/3.0/mlflow/issues/"+isG, "bob", `{"name":"x"}`, nil)
	deny("issue update with READ", resp, body, "no-permission")
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/label-schemas/get?schema_id=nope", "bob", "", nil)
	deny("label schema that does not exist", resp, body, "lookup-failed")

	// AI gateway endpoints: USE on one endpoint lets bob read it and invoke
	// it by name; the other endpoint is refused on every route.
	sec := upstreamJSON(t, h, "/api/3.0/mlflow/gateway/secrets/create",
		`{"secret_name":"s1","secret_value":[{"key":"api_key","value":"not-a-real-key"}],"provider":"openai"}`, "secret", "secret_id")
	md := upstreamJSON(t, h, "/api/3.0/mlflow/gateway/model-definitions/create",
		`{"name":"md1","secret_id":"`+sec+`","provider":"openai","model_name":"gpt-4o"}`, "model_definition", "model_definition_id")
	var ep [2]string
	for i, n := range []string{"ep-granted", "ep-other"} {
		ep[i] = upstreamJSON(t, h, "/api/3.0/mlflow/gateway/endpoints/create",
			`{"name":"`+n+`","model_configs":[{"model_definition_id":"`+md+`","linkage_type":"PRIMARY","weight":1}]}`, "endpoint", "endpoint_id")
	}
	grant("gateway_endpoint", ep[0], store.Use)
	time.Sleep(300 * time.Millisecond)
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/gateway/endpoints/get?endpoint_id="+ep[0], "bob", "", nil)
	allow("granted endpoint", resp, body)
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/gateway/endpoints/get?endpoint_id="+ep[1], "bob", "", nil)
	deny("other endpoint", resp, body, "no-permission")
	resp, body = h.do(t, "GET", "/api/3.0/mlflow/gateway/endpoints/list", "bob", "", nil)
	allow("endpoint list", resp, body)
	if !strings.Contains(body, ep[0]) || strings.Contains(body, ep[1]) {
		t.Errorf("endpoint list not filtered: %s", body)
	}
	resp, body = h.do(t, "POST", "/api/3.0/mlflow/gateway/endpoints/update", "bob", `{"endpoint_id":"`+ep[0]+`","name":"renamed"}`, nil)
	deny("endpoint update with USE", resp, body, "no-permission")
	resp, body = h.do(t, "DELETE", "/api/3.0/mlflow/gateway/endpoints/delete", "bob", `{"endpoint_id":"`+ep[1]+`"}`, nil)
	deny("endpoint delete", resp, body, "no-permission")
	// Invocations: the granted endpoint is forwarded (MLflow then fails to
	// reach the provider: no network here), the other is refused.
	for _, inv := range []struct{ path, body string }{
		{"/gateway/%s/mlflow/invocations", `{"messages":[{"role":"user","content":"hi"}]}`},
		{"/gateway/openai/v1/chat/completions", `{"model":"%s","messages":[{"role":"user","content":"hi"}]}`},
	} {
		for i, n := range []string{"ep-granted", "ep-other"} {
			path, b := inv.path, inv.body
			if strings.Contains(path, "%s") {
				path = strings.Replace(path, "%s", n, 1)
			} else {
				b = strings.Replace(b, "%s", n, 1)
			}
			resp, body = h.do(t, "POST", path, "bob", b, nil)
			if i == 0 {
				if resp.Header.Get("X-Mlflow-Guard-Decision") != "" {
					t.Errorf("invoke granted endpoint via %s: the gateway denied: %d %s", path, resp.StatusCode, body)
				}
			} else {
				deny("invoke other endpoint via "+path, resp, body, "no-permission")
			}
		}
	}
	grant("gateway_endpoint", ep[0], store.Edit)
	time.Sleep(300 * time.Millisecond)
	resp, body = h.do(t, "POST", "/api/3.0/mlflow/gateway/endpoints/update", "bob", `{"endpoint_id":"`+ep[0]+`","model_configs":[]}`, nil)
	deny("endpoint update changing its models", resp, body, "ambiguous-request")
	resp, body = h.do(t, "POST", "/api/3.0/mlflow/gateway/endpoints/update", "bob", `{"endpoint_id":"`+ep[0]+`","experiment_id":"`+o.ExperimentID+`"}`, nil)
	deny("endpoint update pointing at an unwritable experiment", resp, body, "no-permission")

	// A logged model bob creates in an experiment he may edit is his to manage.
	grant("experiment", g.ExperimentID, store.Edit)
	time.Sleep(300 * time.Millisecond)
	resp, body = h.do(t, "PATCH", "/api/3.0/mlflow/datasets/"+dsG+"/tags", "bob", `{"tags":"{\"k\":\"v\"}"}`, nil)
	allow("dataset tags with EDIT", resp, body)
	resp, body = h.do(t, "PATCH", "/api/3.0/mlflow/datasets/"+dsBoth+"/tags", "bob", `{"tags":"{\"k\":\"v\"}"}`, nil)
	deny("tags of a dataset shared with an unwritable experiment", resp, body, "no-permission")
	resp, body = h.do(t, "POST", "/api/2.0/mlflow/logged-models", "bob", `{"experiment_id":"`+g.ExperimentID+`","name":"bobs"}`, nil)
	allow("bob creates a logged model", resp, body)
	var lm struct {
		Model struct {
			Info struct {
				ModelID string `json:"model_id"`
			} `json:"info"`
		} `json:"model"`
	}
	_ = json.Unmarshal([]byte(body), &lm)
	if p, err := h.st.Permissions(ctx, &store.User{Name: "bob"}, "logged_model", []string{lm.Model.Info.ModelID}); err != nil || p[lm.Model.Info.ModelID] != store.Manage {
		t.Errorf("creator grant on logged model %q: %v %v", lm.Model.Info.ModelID, p, err)
	}
	resp, body = h.do(t, "DELETE", "/api/2.0/mlflow/logged-models/"+lm.Model.Info.ModelID, "bob", "", nil)
	allow("bob deletes his logged model (EDIT on the experiment, MANAGE on the model)", resp, body)
	resp, body = h.do(t, "DELETE", "/api/2.0/mlflow/logged-models/"+g.LoggedModelID, "bob", "", nil)
	deny("bob deletes root's logged model with EDIT", resp, body, "no-permission")
}

// upstreamPost sends admin setup straight to MLflow (not under test).
func upstreamPost(t *testing.T, h *harness, path, body string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Post(h.ml.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// upstreamJSON posts setup to MLflow and returns answer[obj][field].
func upstreamJSON(t *testing.T, h *harness, path, body, obj, field string) string {
	t.Helper()
	resp, b := upstreamPost(t, h, path, body)
	var v map[string]map[string]any
	_ = json.Unmarshal([]byte(b), &v)
	s, _ := v[obj][field].(string)
	if resp.StatusCode != 200 || s == "" {
		t.Fatalf("setup %s: %d %s", path, resp.StatusCode, b)
	}
	return s
}
