package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestRedTeamEndToEnd sends request shapes meant to make the gateway and
// MLflow read one request two ways, through the gateway to the pinned
// MLflow server. bob holds EDIT on experiment A (and on registered model
// rmA) and nothing on experiment B. A shape fails the test when MLflow
// acts on B, stores a secret, or the gateway lets it through; the store is
// read back directly from MLflow, not through the gateway.
//
// The first rows are the bypasses this pass found and fixed (each names
// its commit's subject); the rest are shapes that were already refused and
// stay refused.
func TestRedTeamEndToEnd(t *testing.T) {
	testenv.SkipIfShort(t, "MLflow")
	h := startHarness(t)
	ctx := context.Background()
	rt := &redTeam{t: t, h: h}

	// Set-up as the admin, through the gateway.
	expA := rt.rootJSON("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "rt-A"})["experiment_id"].(string)
	expB := rt.rootJSON("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "rt-B"})["experiment_id"].(string)
	runOf := func(exp string) string {
		r := rt.rootJSON("POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": exp})
		return r["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	}
	runA, runB := runOf(expA), runOf(expB)
	rt.rootJSON("POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": runB, "key": "loss", "value": 0.5, "timestamp": 1, "step": 0})
	lmOf := func(exp string) string {
		r := rt.rootJSON("POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": exp, "name": "lm"})
		return r["model"].(map[string]any)["info"].(map[string]any)["model_id"].(string)
	}
	lmA, lmB := lmOf(expA), lmOf(expB)
	for _, up := range []struct{ exp, lm string }{{expA, lmA}, {expB, lmB}} {
		resp, body := h.do(t, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+up.exp+"/models/"+up.lm+"/artifacts/notes.txt", "root", "model notes of "+up.exp+"\n", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("upload to %s: %d %s", up.lm, resp.StatusCode, body)
		}
	}
	rt.rootJSON("POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "rmA"})
	for _, g := range []store.Grant{
		{Principal: store.Principal{Kind: "user", Name: "bob"}, ResourceKind: "experiment", ResourceID: expA, Permission: store.Edit},
		{Principal: store.Principal{Kind: "user", Name: "bob"}, ResourceKind: "registered_model", ResourceID: "rmA", Permission: store.Edit},
	} {
		if err := h.st.AddGrant(ctx, "test", g, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Real token formats, split so repository scanners leave this file alone.
	ghp := "ghp_" + "hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES"
	aws := "AKIA" + "UJZDEGXDNCF32EPF"
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	ds := func(field, v string) string {
		d := map[string]any{"name": "d-" + field, "digest": "abc", "source_type": "local", "source": "s"}
		d[field] = v
		return js(map[string]any{"run_id": runA, "datasets": []any{map[string]any{"dataset": d}}})
	}
	otlp := func(attr string) string {
		now := time.Now().UnixNano()
		return js(map[string]any{"resourceSpans": []any{map[string]any{"resource": map[string]any{"attributes": []any{}},
			"scopeSpans": []any{map[string]any{"spans": []any{map[string]any{
				"traceId": fmt.Sprintf("%032x", now), "spanId": fmt.Sprintf("%016x", now), "name": "s",
				"startTimeUnixNano": fmt.Sprint(now), "endTimeUnixNano": fmt.Sprint(now + 1000),
				"attributes": []any{map[string]any{"key": "note", "value": map[string]any{"stringValue": attr}}}}}}}}}})
	}
	v2, v3 := "/api/2.0/mlflow/", "/api/3.0/mlflow/"

	fixed := []rtCase{
		// b7568aa: escaped unreserved characters reached set-tag past the policies.
		{name: "set%2Dtag with a secret", method: "POST", target: v2 + "runs/set%2Dtag", body: js(map[string]any{"run_id": runA, "key": "k1", "value": ghp}), reason: "path-not-canonical"},
		{name: "%73et-tag with a secret", method: "POST", target: v2 + "runs/%73et-tag", body: js(map[string]any{"run_id": runA, "key": "k2", "value": ghp}), reason: "path-not-canonical"},
		{name: "ajax log%2Dparameter", method: "POST", target: "/ajax-api/2.0/mlflow/runs/log%2dparameter", body: js(map[string]any{"run_id": runA, "key": "k3", "value": aws}), reason: "path-not-canonical"},
		// b7568aa: HEAD read the body for the gateway and the query for MLflow.
		{name: "HEAD get-history-bulk, B in the query, A in the body", method: "HEAD", target: "/ajax-api/2.0/mlflow/metrics/get-history-bulk?metric_key=loss&run_id=" + runB, body: js(map[string]any{"run_id": []string{runA}}), reason: "ambiguous-request"},
		// 6a2ff27: another experiment's logged model registered under rmA.
		{name: "register B's logged model with its model_id", method: "POST", target: v2 + "model-versions/create", body: js(map[string]any{"name": "rmA", "source": "models:/" + lmB, "model_id": lmB}), reason: "no-permission"},
		{name: "register B's logged model, camelCase modelId", method: "POST", target: v2 + "model-versions/create", body: js(map[string]any{"name": "rmA", "source": "models:/" + lmB, "modelId": lmB}), reason: "no-permission"},
		{name: "register B's logged model by its proxy path", method: "POST", target: v2 + "model-versions/create", body: js(map[string]any{"name": "rmA", "source": "mlflow-artifacts:/" + expB + "/models/" + lmB + "/artifacts", "model_id": lmB}), reason: "no-permission"},
		{name: "register B's run by a runs:/ source only", method: "POST", target: v2 + "model-versions/create", body: js(map[string]any{"name": "rmA", "source": "runs:/" + runB + "/model"}), reason: "no-permission"},
		// 6d53571: OTLP linked traces into B's run.
		{name: "OTLP with B's run in X-Mlflow-Run-Id", method: "POST", target: "/v1/traces", body: otlp("x"), hdr: map[string]string{"Content-Type": "application/json", "X-Mlflow-Experiment-Id": expA, "X-Mlflow-Run-Id": runB}, reason: "no-permission"},
		// Links from A's runs and models to B's logged models and runs.
		{name: "B's logged model as an output of A's run", method: "POST", target: v2 + "runs/outputs", body: js(map[string]any{"run_id": runA, "models": []any{map[string]any{"model_id": lmB, "step": 0}}}), reason: "no-permission"},
		{name: "B's logged model as an input of A's run", method: "POST", target: v2 + "runs/log-inputs", body: js(map[string]any{"run_id": runA, "models": []any{map[string]any{"model_id": lmB}}}), reason: "no-permission"},
		{name: "a logged model in A with B's run as its source", method: "POST", target: v2 + "logged-models", body: js(map[string]any{"experiment_id": expA, "name": "x", "source_run_id": runB}), reason: "no-permission"},
		// The mlflow.user tag the gateway sets at runs/create was rewritable.
		{name: "set-tag mlflow.user to another user", method: "POST", target: v2 + "runs/set-tag", body: js(map[string]any{"run_id": runA, "key": "mlflow.user", "value": "root"}), reason: "identity-tag"},
		{name: "log-batch mlflow.user to another user", method: "POST", target: v2 + "runs/log-batch", body: js(map[string]any{"run_id": runA, "tags": []any{map[string]any{"key": "mlflow.user", "value": "root"}}}), reason: "identity-tag"},
		{name: "delete-tag mlflow.user", method: "POST", target: v2 + "runs/delete-tag", body: js(map[string]any{"run_id": runA, "key": "mlflow.user"}), reason: "identity-tag"},
		// The policy commit: secrets stored verbatim in unchecked fields.
		{name: "secret in a dataset profile", method: "POST", target: v2 + "runs/log-inputs", body: ds("profile", `{"token": "`+ghp+`"}`), reason: "secret"},
		{name: "secret in a dataset schema", method: "POST", target: v2 + "runs/log-inputs", body: ds("schema", aws), reason: "secret"},
		{name: "secret in a dataset source_type", method: "POST", target: v2 + "runs/log-inputs", body: ds("source_type", ghp), reason: "secret"},
		{name: "secret in log-model JSON", method: "POST", target: v2 + "runs/log-model", body: js(map[string]any{"run_id": runA, "model_json": js(map[string]any{"artifact_path": "m", "flavors": map[string]any{"x": map[string]any{"key": ghp}}, "run_id": runA, "utc_time_created": "2026-01-01 00:00:00.000000"})}), reason: "secret"},
		{name: "secret in a logged model's type", method: "POST", target: v2 + "logged-models", body: js(map[string]any{"experiment_id": expA, "name": "x", "model_type": aws}), reason: "secret"},
		{name: "secret in a v2 trace tag", method: "POST", target: v2 + "traces", body: js(map[string]any{"experiment_id": expA, "timestamp_ms": 1, "tags": []any{map[string]any{"key": "t", "value": ghp}}}), reason: "secret"},
		{name: "secret in v2 trace metadata", method: "POST", target: v2 + "traces", body: js(map[string]any{"experiment_id": expA, "timestamp_ms": 1, "request_metadata": []any{map[string]any{"key": "m", "value": aws}}}), reason: "secret"},
		{name: "secret in a v3 trace tag", method: "POST", target: v3 + "traces", body: js(map[string]any{"trace": map[string]any{"trace_info": map[string]any{"trace_id": "tr-0000000000000000000000000000abcd",
			"trace_location": map[string]any{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": map[string]any{"experiment_id": expA}}, "request_time": "2026-01-01T00:00:00Z", "state": "OK", "tags": map[string]any{"t": ghp}}}}), reason: "secret"},
		{name: "secret in a registered model's description", method: "PATCH", target: v2 + "registered-models/update", body: js(map[string]any{"name": "rmA", "description": ghp}), reason: "secret"},
		// OTLP bodies were forwarded unread.
		{name: "secret in an OTLP JSON attribute", method: "POST", target: "/v1/traces", body: otlp(ghp), hdr: map[string]string{"Content-Type": "application/json", "X-Mlflow-Experiment-Id": expA}, reason: "secret"},
		{name: "secret in a gzipped OTLP JSON attribute", method: "POST", target: "/v1/traces", body: string(gzipped([]byte(otlp(aws)))), hdr: map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip", "X-Mlflow-Experiment-Id": expA}, reason: "secret"},
		{name: "secret in an OTLP protobuf attribute", method: "POST", target: "/v1/traces", body: string(otlpProto("note", ghp, false)), hdr: map[string]string{"Content-Type": "application/x-protobuf", "X-Mlflow-Experiment-Id": expA}, reason: "secret"},
		{name: "secret nested in a gzipped OTLP protobuf kvlist", method: "POST", target: "/v1/traces", body: string(gzipped(otlpProto("note", aws, true))), hdr: map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip", "X-Mlflow-Experiment-Id": expA}, reason: "secret"},
		{name: "OTLP with an encoding MLflow does not decode", method: "POST", target: "/v1/traces", body: string(otlpProto("note", "x", false)), hdr: map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "br", "X-Mlflow-Experiment-Id": expA}, reason: "ambiguous-request"},
		{name: "secret as an experiment's new name", method: "POST", target: v2 + "experiments/update", body: js(map[string]any{"experiment_id": expA, "new_name": aws}), reason: "secret"},
	}
	// Shapes that were refused before this pass; they stay refused.
	refused := []rtCase{
		{name: "double slash", method: "GET", target: "//api/2.0/mlflow/runs/get?run_id=" + runB, reason: "path-not-canonical"},
		{name: "dot segment", method: "GET", target: "/api/2.0/mlflow/./runs/get?run_id=" + runB, reason: "path-not-canonical"},
		{name: "encoded slash", method: "GET", target: "/api/2.0/mlflow/runs%2Fget?run_id=" + runB, reason: "path-not-canonical"},
		{name: "trailing slash", method: "GET", target: "/api/2.0/mlflow/runs/get/?run_id=" + runB, reason: "unknown-route"},
		{name: "matrix parameter", method: "GET", target: "/api/2.0/mlflow/runs/get;x=1?run_id=" + runB, reason: "unknown-route"},
		{name: "upper-case path", method: "GET", target: "/API/2.0/mlflow/runs/get?run_id=" + runB, reason: "unknown-route"},
		{name: "lower-case method", method: "get", target: "/api/2.0/mlflow/runs/get?run_id=" + runB, reason: "unknown-route"},
		{name: "PUT on a POST route", method: "PUT", target: v2 + "runs/set-tag", body: js(map[string]any{"run_id": runB, "key": "x", "value": "y"}), reason: "unknown-route"},
		{name: "method override header", method: "GET", target: v2 + "runs/get?run_id=" + runB, hdr: map[string]string{"X-HTTP-Method-Override": "POST"}, reason: "no-permission"},
		{name: "duplicate query id", method: "GET", target: v2 + "runs/get?run_id=" + runA + "&run_id=" + runB, reason: "ambiguous-request"},
		{name: "empty run_id beside run_uuid", method: "GET", target: v2 + "runs/get?run_id=&run_uuid=" + runB, reason: "ambiguous-request"},
		{name: "semicolon in the query", method: "GET", target: v2 + "runs/get?run_id=" + runA + ";run_id=" + runB, reason: "ambiguous-request"},
		{name: "query A, body B on POST", method: "POST", target: v2 + "runs/set-tag?run_id=" + runA, body: js(map[string]any{"run_id": runB, "key": "x", "value": "y"}), reason: "no-permission"},
		{name: "run_id A, run_uuid B", method: "POST", target: v2 + "runs/set-tag", body: js(map[string]any{"run_id": runA, "run_uuid": runB, "key": "x", "value": "y"}), reason: "ambiguous-request"},
		{name: "snake and camel", method: "POST", target: v2 + "runs/set-tag", body: `{"run_id":"` + runA + `","runId":"` + runB + `","key":"x","value":"y"}`, reason: "ambiguous-request"},
		{name: "duplicate JSON key", method: "POST", target: v2 + "runs/set-tag", body: `{"run_id":"` + runA + `","run_id":"` + runB + `","key":"x","value":"y"}`, reason: "ambiguous-request"},
		{name: "key differing in case", method: "POST", target: v2 + "runs/set-tag", body: `{"run_id":"` + runA + `","RUN_ID":"` + runB + `","key":"x","value":"y"}`, reason: "ambiguous-request"},
		{name: "UTF-8 BOM", method: "POST", target: v2 + "runs/set-tag", body: "\ufeff" + js(map[string]any{"run_id": runB, "key": "x", "value": "y"}), reason: "ambiguous-request"},
		{name: "UTF-16 body", method: "POST", target: v2 + "runs/set-tag", body: utf16le(js(map[string]any{"run_id": runB, "key": "x", "value": "y"})), hdr: map[string]string{"Content-Type": "application/json; charset=utf-16"}, reason: "ambiguous-request"},
		{name: "form body", method: "POST", target: v2 + "runs/set-tag", body: "run_id=" + runB + "&key=x&value=y", hdr: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, reason: "ambiguous-request"},
		{name: "JSON string body naming B", method: "POST", target: v2 + "runs/set-tag", body: js(js(map[string]any{"run_id": runB, "key": "x", "value": "y"})), reason: "no-permission"},
		{name: "number as run id", method: "POST", target: v2 + "runs/set-tag", body: `{"run_id":1,"key":"x","value":"y"}`, reason: "ambiguous-request"},
		{name: "array as run id", method: "POST", target: v2 + "runs/set-tag", body: `{"run_id":["` + runA + `"],"key":"x","value":"y"}`, reason: "ambiguous-request"},
		{name: "lone surrogate", method: "POST", target: v2 + "runs/set-tag", body: `{"run_id":"` + runA + `","key":"x","value":"\ud800"}`, reason: "ambiguous-request"},
		{name: "chunked HEAD", method: "HEAD", target: v2 + "runs/get?run_id=" + runB, body: js(map[string]any{"run_id": runA}), chunked: true, reason: "ambiguous-request"},
		{name: "search over A and B", method: "POST", target: v2 + "runs/search", body: js(map[string]any{"experiment_ids": []string{expA, expB}}), reason: "no-permission"},
		{name: "artifact listing climbing out of A", method: "GET", target: "/api/2.0/mlflow-artifacts/artifacts?path=" + url.QueryEscape(expA+"/../"+expB), reason: "artifact-path"},
		{name: "artifact GET double-encoded dots", method: "GET", target: "/api/2.0/mlflow-artifacts/artifacts/" + expA + "/%252e%252e/" + expB + "/models/" + lmB + "/artifacts/notes.txt", reason: "artifact-path"},
		{name: "artifact GET backslashes", method: "GET", target: "/api/2.0/mlflow-artifacts/artifacts/" + expA + "/..%5c" + expB + "/models/" + lmB + "/artifacts/notes.txt", reason: "path-not-canonical"},
		{name: "get-artifact climbing out of A's run", method: "GET", target: "/get-artifact?run_id=" + runA + "&path=" + url.QueryEscape("../../"+runB+"/artifacts/x"), reason: "artifact-path"},
		{name: "logged-model file climbing out", method: "GET", target: "/ajax-api/2.0/mlflow/logged-models/" + lmA + "/artifacts/files?artifact_file_path=" + url.QueryEscape("../../"+lmB+"/artifacts/notes.txt"), reason: "artifact-path"},
		{name: "GraphQL alias reading B's run", method: "POST", target: "/graphql", body: js(map[string]any{"query": `{a: mlflowGetRun(input:{runId:"` + runA + `"}){run{info{runName}}} b: mlflowGetRun(input:{runId:"` + runB + `"}){run{info{runName}}}}`}), reason: "no-permission"},
		{name: "GraphQL operationName picking B", method: "POST", target: "/graphql", body: js(map[string]any{"operationName": "P", "query": `query Q {mlflowGetRun(input:{runId:"` + runA + `"}){run{info{runName}}}} query P {mlflowGetRun(input:{runId:"` + runB + `"}){run{info{runName}}}}`}), reason: "no-permission"},
		{name: "GraphQL batch", method: "POST", target: "/graphql", body: js([]any{map[string]any{"query": `{mlflowGetRun(input:{runId:"` + runB + `"}){run{info{runName}}}}`}}), reason: "graphql-unauthorizable"},
		{name: "secret with a \\u escape", method: "POST", target: v2 + "runs/set-tag", body: `{"run_id":"` + runA + `","key":"k","value":"\u0067` + ghp[1:] + `"}`, reason: "secret"},
	}
	for _, c := range append(fixed, refused...) {
		rt.expectDenied(c)
	}

	// MLflow's own state, read directly: nothing reached B or stored a secret.
	run := rt.direct("GET", "/api/2.0/mlflow/runs/get?run_id="+runA)
	if s := fmt.Sprint(run); strings.Contains(s, ghp) || strings.Contains(s, aws) {
		t.Errorf("a secret reached run A (run not printed: it holds the token)")
	}
	count := func(v any) int { l, _ := v.([]any); return len(l) }
	runBNow := rt.direct("GET", "/api/2.0/mlflow/runs/get?run_id="+runB)
	for _, tag := range runBNow["run"].(map[string]any)["data"].(map[string]any)["tags"].([]any) {
		if k := tag.(map[string]any)["key"]; k == "x" || k == "k" {
			t.Errorf("a tag reached run B: %v", tag)
		}
	}
	if v := rt.direct("GET", "/api/2.0/mlflow/model-versions/search?filter="+url.QueryEscape("name='rmA'")); count(v["model_versions"]) > 0 {
		t.Errorf("a version was registered under rmA: %v", v)
	}
	traces := rt.direct("POST", "/api/3.0/mlflow/traces/search", map[string]any{"locations": []any{map[string]any{"type": "MLFLOW_EXPERIMENT",
		"mlflow_experiment": map[string]any{"experiment_id": expA}}}})
	if count(traces["traces"]) > 0 {
		t.Errorf("a refused trace was stored: %v", traces)
	}

	// Grants on a deleted model's name do not pass to the next model of
	// that name (bob squatting a name another team will use).
	for _, c := range []rtCase{
		{name: "bob creates rt-squat", method: "POST", target: v2 + "registered-models/create", body: js(map[string]any{"name": "rt-squat"})},
		{name: "bob deletes rt-squat", method: "DELETE", target: v2 + "registered-models/delete", body: js(map[string]any{"name": "rt-squat"})},
	} {
		if status, dec, body := rt.send(c); status != http.StatusOK {
			t.Fatalf("%s: %d %q %s", c.name, status, dec, body)
		}
	}
	rt.rootJSON("POST", v2+"registered-models/create", map[string]any{"name": "rt-squat"})
	time.Sleep(300 * time.Millisecond) // past the harness's permission cache
	rt.expectDenied(rtCase{name: "bob reads the new rt-squat", method: "GET", target: v2 + "registered-models/get?name=rt-squat", reason: "no-permission"})
	rt.expectDenied(rtCase{name: "bob deletes the new rt-squat", method: "DELETE", target: v2 + "registered-models/delete", body: js(map[string]any{"name": "rt-squat"}), reason: "no-permission"})

	// Controls: the same requests on what bob may touch still work, so
	// the denials above are about B, not about the shape of the request.
	for _, c := range []rtCase{
		{name: "register A's logged model", method: "POST", target: v2 + "model-versions/create", body: js(map[string]any{"name": "rmA", "source": "models:/" + lmA, "model_id": lmA})},
		{name: "OTLP into A with A's run", method: "POST", target: "/v1/traces", body: otlp("plain"), hdr: map[string]string{"Content-Type": "application/json", "X-Mlflow-Experiment-Id": expA, "X-Mlflow-Run-Id": runA}},
		{name: "HEAD without a body", method: "HEAD", target: "/version"},
		{name: "benign gzipped OTLP protobuf", method: "POST", target: "/v1/traces", body: string(gzipped(otlpProto("llm.model", "gpt-small max_tokens=256", true))), hdr: map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip", "X-Mlflow-Experiment-Id": expA}},
		{name: "plain artifact name", method: "GET", target: "/api/2.0/mlflow-artifacts/artifacts/" + expA + "/models/" + lmA + "/artifacts/notes.txt"},
		{name: "benign dataset profile", method: "POST", target: v2 + "runs/log-inputs", body: ds("profile", `{"num_rows": 10, "max_tokens": 256}`)},
		{name: "A's logged model as an output of A's run", method: "POST", target: v2 + "runs/outputs", body: js(map[string]any{"run_id": runA, "models": []any{map[string]any{"model_id": lmA, "step": 0}}})},
		{name: "set-tag mlflow.user to oneself", method: "POST", target: v2 + "runs/set-tag", body: js(map[string]any{"run_id": runA, "key": "mlflow.user", "value": "bob"})},
		{name: "benign description", method: "PATCH", target: v2 + "registered-models/update", body: js(map[string]any{"name": "rmA", "description": "tokenizer tuned; primary_key_col=id"})},
	} {
		status, dec, body := rt.send(c)
		want := c.wantStatus
		if want == 0 {
			want = http.StatusOK
		}
		if status != want {
			t.Errorf("control %s: got %d %q %.300s, want %d", c.name, status, dec, body, want)
		}
	}
}

// rtCase is one request shape, sent byte for byte.
type rtCase struct {
	name, method, target, body string
	hdr                        map[string]string
	chunked                    bool
	reason                     string // the X-Mlflow-Guard-Decision reason expected
	wantStatus                 int    // controls: expected status (default 200)
}

type redTeam struct {
	t *testing.T
	h *harness
}

// send writes the request on a raw connection as bob, so no client
// library cleans the path, drops a HEAD body or merges headers.
func (rt *redTeam) send(c rtCase) (int, string, string) {
	rt.t.Helper()
	u, _ := url.Parse(rt.h.url)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		rt.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", c.method, c.target, u.Host)
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth("bob", rt.h.creds["bob"])
	fmt.Fprintf(&b, "Authorization: %s\r\n", req.Header.Get("Authorization"))
	if _, ok := c.hdr["Content-Type"]; !ok && c.body != "" {
		b.WriteString("Content-Type: application/json\r\n")
	}
	for k, v := range c.hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	switch {
	case c.chunked:
		fmt.Fprintf(&b, "Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(c.body), c.body)
	case c.body != "":
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(c.body), c.body)
	default:
		b.WriteString("\r\n")
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		rt.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: c.method})
	if err != nil {
		rt.t.Fatalf("%s: %v", c.name, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"), string(body)
}

func (rt *redTeam) expectDenied(c rtCase) {
	rt.t.Helper()
	status, dec, body := rt.send(c)
	if status != http.StatusForbidden || !strings.Contains(dec, "reason="+c.reason) {
		rt.t.Errorf("%s: want 403 reason=%s, got %d %q %.300s", c.name, c.reason, status, dec, body)
	}
}

func (rt *redTeam) rootJSON(method, path string, v any) map[string]any {
	rt.t.Helper()
	b, _ := json.Marshal(v)
	resp, body := rt.h.do(rt.t, method, path, "root", string(b), nil)
	if resp.StatusCode != http.StatusOK {
		rt.t.Fatalf("set-up %s %s: %d %s", method, path, resp.StatusCode, body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		rt.t.Fatalf("set-up %s: %v", path, err)
	}
	return out
}

// direct asks MLflow itself, bypassing the gateway.
func (rt *redTeam) direct(method, path string, body ...any) map[string]any {
	rt.t.Helper()
	var rd io.Reader
	if len(body) > 0 {
		b, _ := json.Marshal(body[0])
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, rt.h.ml.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		rt.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		rt.t.Fatalf("direct %s %s: %d %v", method, path, resp.StatusCode, err)
	}
	return out
}

func utf16le(s string) string {
	var b strings.Builder
	b.WriteString("\xff\xfe")
	for _, r := range s {
		b.WriteByte(byte(r))
		b.WriteByte(byte(r >> 8))
	}
	return b.String()
}
