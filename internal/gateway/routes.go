package gateway

import (
	"fmt"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// Kind is what a route acts on. The resource kinds match store grants; the
// others say who may call a route that names no single resource.
type Kind string

const (
	KindExperiment      Kind = "experiment"
	KindRegisteredModel Kind = "registered_model"
	// KindAuthenticated: any logged-in user (UI, server-info, creates whose
	// new resource is granted to the caller afterwards).
	KindAuthenticated Kind = "authenticated"
	// KindAdmin: admins only. Used for every route whose resources the
	// gateway cannot yet authorize field by field (fail closed).
	KindAdmin Kind = "admin"
	// KindGraphQL: every field of the document is authorized on its own
	// (graphql_authz.go).
	KindGraphQL Kind = "graphql"
)

// Source says where a request carries a resource id.
type Source int

const (
	// FromMessage reads proto fields the way MLflow's handler does: the
	// query string for a GET with a query, the JSON body otherwise.
	FromMessage Source = iota
	// FromPathVar reads a path variable of the pattern.
	FromPathVar
	// FromArtifactPath reads the experiment id from the first segment of
	// the artifact path (path variable, or the "path" query field for a
	// listing): mlflow-artifacts paths are "<experiment_id>/...".
	FromArtifactPath
	// FromHeader reads a request header (OTLP's experiment id).
	FromHeader
)

// Via says how an id found in the request becomes the id of the resource
// the permission is checked on.
type Via int

const (
	Direct            Via = iota
	RunToExperiment       // run id -> its experiment (upstream runs/get)
	LoggedModelToExp      // logged model id -> its experiment
	TraceToExperiment     // trace id -> its experiment (upstream GetTraceInfoV3)
)

// Check is one permission a request needs.
type Check struct {
	Fields   []string // proto field names (snake_case); later names are aliases (run_uuid)
	Repeated bool     // the field is a list; every element is checked
	Source   Source
	Via      Via
	Kind     Kind
	Perm     store.Permission
	Optional bool // an absent field skips the check (otherwise: deny)
	// Extract, when set, reads the ids from the message itself (nested
	// fields); Fields then only names them in messages.
	Extract func(*Message) ([]string, error)
}

// Hook names a response-side step.
type Hook int

const (
	NoHook Hook = iota
	GrantCreatorExperiment
	GrantCreatorModel
	FilterExperiments
	FilterRegisteredModels
	FilterModelVersions
	CheckExperimentInResponse // get-by-name: the id is only known from the answer
	SetRunUser                // runs/create: mlflow.user tag = the caller
	FilterGraphQL             // drop model versions of unreadable models from a GraphQL answer
)

// Class groups routes for body size limits.
type Class int

const (
	ClassAPI      Class = iota // JSON API: body buffered (capped) and checked
	ClassArtifact              // streamed, never buffered
	ClassUI                    // static files and pages
)

// Route is one row of the table: a method and Flask-style pattern, the
// checks, and response hooks.
type Route struct {
	Method  string
	Pattern string // Flask syntax: <var>, <path:var>
	Kind    Kind
	Checks  []Check
	Hook    Hook
	Class   Class
	// NoAjax: the route has no /ajax-api mirror (or a different one).
	NoAjax bool
	// AjaxOnly: the route exists only under /ajax-api.
	AjaxOnly bool
	Note     string
}

func exp(fields string, p store.Permission) Check {
	return Check{Fields: strings.Split(fields, ","), Kind: KindExperiment, Perm: p}
}
func run(p store.Permission) Check {
	return Check{Fields: []string{"run_id", "run_uuid"}, Via: RunToExperiment, Kind: KindExperiment, Perm: p}
}
func model(field string, p store.Permission) Check {
	return Check{Fields: []string{field}, Kind: KindRegisteredModel, Perm: p}
}
func loggedModel(p store.Permission) Check {
	return Check{Fields: []string{"model_id"}, Source: FromPathVar, Via: LoggedModelToExp, Kind: KindExperiment, Perm: p}
}
func trace(source Source, field string, p store.Permission) Check {
	return Check{Fields: []string{field}, Source: source, Via: TraceToExperiment, Kind: KindExperiment, Perm: p}
}
func traceList(p store.Permission) Check {
	return Check{Fields: []string{"trace_ids"}, Repeated: true, Via: TraceToExperiment, Kind: KindExperiment, Perm: p}
}
func artifact(p store.Permission) Check {
	return Check{Fields: []string{"artifact_path"}, Source: FromArtifactPath, Kind: KindExperiment, Perm: p}
}

const (
	R = store.Read
	U = store.Use
	E = store.Edit
	M = store.Manage
)

// api builds a row under /api/2.0/mlflow or /api/3.0/mlflow.
func api(method, path string, kind Kind, checks ...Check) Route {
	return Route{Method: method, Pattern: path, Kind: kind, Checks: checks}
}

func withHook(r Route, h Hook) Route { r.Hook = h; return r }

func admin(method, path, note string) Route {
	return Route{Method: method, Pattern: path, Kind: KindAdmin, Note: note}
}

// adminAll makes admin rows for several methods of one path.
func adminAll(path, note string, methods ...string) []Route {
	var out []Route
	for _, m := range methods {
		out = append(out, admin(m, path, note))
	}
	return out
}

const (
	v2 = "/api/2.0/mlflow/"
	v3 = "/api/3.0/mlflow/"
)

// Table is every route the pinned MLflow serves, with how the gateway
// authorizes it. Rows under /api/ are mirrored under /ajax-api/ (the UI's
// prefix) unless NoAjax. A route not in the table is denied.
func Table() []Route {
	t := []Route{
		// Experiments.
		withHook(api("POST", v2+"experiments/create", KindAuthenticated), GrantCreatorExperiment),
		api("GET", v2+"experiments/get", KindExperiment, exp("experiment_id", R)),
		withHook(api("GET", v2+"experiments/get-by-name", KindAuthenticated), CheckExperimentInResponse),
		withHook(api("GET", v2+"experiments/search", KindAuthenticated), FilterExperiments),
		withHook(api("POST", v2+"experiments/search", KindAuthenticated), FilterExperiments),
		api("POST", v2+"experiments/delete", KindExperiment, exp("experiment_id", M)),
		api("POST", v2+"experiments/restore", KindExperiment, exp("experiment_id", M)),
		api("POST", v2+"experiments/update", KindExperiment, exp("experiment_id", E)),
		api("POST", v2+"experiments/set-experiment-tag", KindExperiment, exp("experiment_id", E)),
		api("POST", v2+"experiments/delete-experiment-tag", KindExperiment, exp("experiment_id", E)),
		// Runs.
		withHook(api("POST", v2+"runs/create", KindExperiment, exp("experiment_id", E)), SetRunUser),
		api("GET", v2+"runs/get", KindExperiment, run(R)),
		api("POST", v2+"runs/update", KindExperiment, run(E)),
		api("POST", v2+"runs/delete", KindExperiment, run(M)),
		api("POST", v2+"runs/restore", KindExperiment, run(M)),
		api("POST", v2+"runs/log-metric", KindExperiment, run(E)),
		api("POST", v2+"runs/log-parameter", KindExperiment, run(E)),
		api("POST", v2+"runs/set-tag", KindExperiment, run(E)),
		api("POST", v2+"runs/delete-tag", KindExperiment, run(E)),
		api("POST", v2+"runs/log-batch", KindExperiment, run(E)),
		api("POST", v2+"runs/log-model", KindExperiment, run(E)),
		api("POST", v2+"runs/log-inputs", KindExperiment, run(E)),
		api("POST", v2+"runs/outputs", KindExperiment, run(E)),
		api("POST", v2+"runs/search", KindExperiment, Check{Fields: []string{"experiment_ids"}, Repeated: true, Kind: KindExperiment, Perm: R}),
		api("GET", v2+"metrics/get-history", KindExperiment, run(R)),
		api("GET", v2+"metrics/get-history-bulk-interval", KindExperiment,
			Check{Fields: []string{"run_ids"}, Repeated: true, Via: RunToExperiment, Kind: KindExperiment, Perm: R}),
		api("GET", v2+"artifacts/list", KindExperiment, run(R)),
		admin("POST", v2+"artifacts/presigned-download-url", "presigned URLs bypass the gateway"),
		admin("POST", v2+"artifacts/presigned-upload-url", "presigned URLs bypass the gateway"),
		// Logged models (MLflow 3): resolved to their experiment.
		api("POST", v2+"logged-models", KindExperiment, exp("experiment_id", E)),
		api("GET", v2+"logged-models/<model_id>", KindExperiment, loggedModel(R)),
		api("PATCH", v2+"logged-models/<model_id>", KindExperiment, loggedModel(E)),
		api("DELETE", v2+"logged-models/<model_id>", KindExperiment, loggedModel(M)),
		api("POST", v2+"logged-models/<model_id>/params", KindExperiment, loggedModel(E)),
		api("PATCH", v2+"logged-models/<model_id>/tags", KindExperiment, loggedModel(E)),
		api("DELETE", v2+"logged-models/<model_id>/tags/<tag_key>", KindExperiment, loggedModel(E)),
		api("GET", v2+"logged-models/<model_id>/artifacts/directories", KindExperiment, loggedModel(R)),
		api("POST", v2+"logged-models/search", KindExperiment, Check{Fields: []string{"experiment_ids"}, Repeated: true, Kind: KindExperiment, Perm: R}),
		// Registered models.
		withHook(api("POST", v2+"registered-models/create", KindAuthenticated), GrantCreatorModel),
		api("GET", v2+"registered-models/get", KindRegisteredModel, model("name", R)),
		withHook(api("GET", v2+"registered-models/search", KindAuthenticated), FilterRegisteredModels),
		api("GET", v2+"registered-models/get-latest-versions", KindRegisteredModel, model("name", R)),
		api("POST", v2+"registered-models/get-latest-versions", KindRegisteredModel, model("name", R)),
		admin("POST", v2+"registered-models/rename", "grants are keyed by name; a rename would orphan them"),
		api("PATCH", v2+"registered-models/update", KindRegisteredModel, model("name", E)),
		api("DELETE", v2+"registered-models/delete", KindRegisteredModel, model("name", M)),
		api("POST", v2+"registered-models/set-tag", KindRegisteredModel, model("name", E)),
		api("DELETE", v2+"registered-models/delete-tag", KindRegisteredModel, model("name", E)),
		api("POST", v2+"registered-models/alias", KindRegisteredModel, model("name", E)),
		api("DELETE", v2+"registered-models/alias", KindRegisteredModel, model("name", E)),
		api("GET", v2+"registered-models/alias", KindRegisteredModel, model("name", R)),
		// Model versions: the registered model is named in the request. A
		// version created from a run also needs READ on that run.
		api("POST", v2+"model-versions/create", KindRegisteredModel, model("name", E),
			Check{Fields: []string{"run_id"}, Via: RunToExperiment, Kind: KindExperiment, Perm: R, Optional: true}),
		api("GET", v2+"model-versions/get", KindRegisteredModel, model("name", R)),
		api("GET", v2+"model-versions/get-download-uri", KindRegisteredModel, model("name", R)),
		withHook(api("GET", v2+"model-versions/search", KindAuthenticated), FilterModelVersions),
		api("PATCH", v2+"model-versions/update", KindRegisteredModel, model("name", E)),
		api("DELETE", v2+"model-versions/delete", KindRegisteredModel, model("name", M)),
		api("POST", v2+"model-versions/set-tag", KindRegisteredModel, model("name", E)),
		api("DELETE", v2+"model-versions/delete-tag", KindRegisteredModel, model("name", E)),
		api("POST", v2+"model-versions/transition-stage", KindRegisteredModel, model("name", M)),
		// Artifact proxy: streamed; the experiment is the path's first segment.
		{Method: "GET", Pattern: "/api/2.0/mlflow-artifacts/artifacts", Kind: KindExperiment, Class: ClassAPI,
			Checks: []Check{{Fields: []string{"path"}, Source: FromArtifactPath, Kind: KindExperiment, Perm: R}}},
		{Method: "GET", Pattern: "/api/2.0/mlflow-artifacts/artifacts/<path:artifact_path>", Kind: KindExperiment, Class: ClassArtifact, Checks: []Check{artifact(R)}},
		{Method: "PUT", Pattern: "/api/2.0/mlflow-artifacts/artifacts/<path:artifact_path>", Kind: KindExperiment, Class: ClassArtifact, Checks: []Check{artifact(E)}},
		{Method: "DELETE", Pattern: "/api/2.0/mlflow-artifacts/artifacts/<path:artifact_path>", Kind: KindExperiment, Class: ClassArtifact, Checks: []Check{artifact(M)}},
		{Method: "POST", Pattern: "/api/2.0/mlflow-artifacts/mpu/create/<path:artifact_path>", Kind: KindExperiment, Checks: []Check{artifact(E)}},
		{Method: "POST", Pattern: "/api/2.0/mlflow-artifacts/mpu/complete/<path:artifact_path>", Kind: KindExperiment, Checks: []Check{artifact(E)}},
		{Method: "POST", Pattern: "/api/2.0/mlflow-artifacts/mpu/abort/<path:artifact_path>", Kind: KindExperiment, Checks: []Check{artifact(E)}},
		admin("GET", "/api/2.0/mlflow-artifacts/presigned/<path:artifact_path>", "presigned URLs bypass the gateway"),
		{Method: "GET", Pattern: "/get-artifact", Kind: KindExperiment, Class: ClassArtifact, NoAjax: true, Checks: []Check{run(R)}},
		{Method: "GET", Pattern: "/model-versions/get-artifact", Kind: KindRegisteredModel, Class: ClassArtifact, NoAjax: true, Checks: []Check{model("name", R)}},
		// OTLP trace export names its experiment in a header.
		{Method: "POST", Pattern: "/v1/traces", Kind: KindExperiment, NoAjax: true, Class: ClassArtifact,
			Checks: []Check{{Fields: []string{"X-Mlflow-Experiment-Id"}, Source: FromHeader, Kind: KindExperiment, Perm: E}}},
		// Traces (v3), resolved to their experiment.
		api("POST", v3+"traces", KindExperiment, Check{Fields: []string{"trace.trace_info.trace_location.mlflow_experiment.experiment_id"},
			Kind: KindExperiment, Perm: E, Extract: startTraceExperiment}),
		api("GET", v3+"traces/<trace_id>", KindExperiment, trace(FromPathVar, "trace_id", R)),
		api("GET", v3+"traces/get", KindExperiment, trace(FromMessage, "trace_id", R)),
		api("GET", v3+"traces/batchGet", KindExperiment, traceList(R)),
		api("POST", v3+"traces/batchGetInfos", KindExperiment, traceList(R)),
		api("POST", v3+"traces/search", KindExperiment, Check{Fields: []string{"locations"}, Repeated: true, Kind: KindExperiment, Perm: R, Extract: searchTraceExperiments}),
		api("PATCH", v3+"traces/<trace_id>/tags", KindExperiment, trace(FromPathVar, "trace_id", E)),
		api("DELETE", v3+"traces/<trace_id>/tags", KindExperiment, trace(FromPathVar, "trace_id", E)),
		api("POST", v3+"traces/<trace_id>/assessments", KindExperiment, trace(FromPathVar, "trace_id", E)),
		api("GET", v3+"traces/<trace_id>/assessments/<assessment_id>", KindExperiment, trace(FromPathVar, "trace_id", R)),
		api("PATCH", v3+"traces/<trace_id>/assessments/<assessment_id>", KindExperiment, trace(FromPathVar, "trace_id", E)),
		api("DELETE", v3+"traces/<trace_id>/assessments/<assessment_id>", KindExperiment, trace(FromPathVar, "trace_id", E)),
		api("POST", v3+"traces/delete-traces", KindExperiment, exp("experiment_id", M)),
		// Server and UI.
		api("GET", v3+"server-info", KindAuthenticated),
		{Method: "GET", Pattern: "/", Kind: KindAuthenticated, Class: ClassUI, NoAjax: true},
		{Method: "GET", Pattern: "/static-files/<path:path>", Kind: KindAuthenticated, Class: ClassUI, NoAjax: true},
		{Method: "GET", Pattern: "/build/<path:filename>", Kind: KindAuthenticated, Class: ClassUI, NoAjax: true},
		{Method: "GET", Pattern: "/health", Kind: KindAuthenticated, NoAjax: true},
		{Method: "GET", Pattern: "/version", Kind: KindAuthenticated, NoAjax: true},
		{Method: "GET", Pattern: "/api/3.0/mlflow/ui-telemetry", Kind: KindAuthenticated, AjaxOnly: true},
		{Method: "POST", Pattern: "/api/3.0/mlflow/ui-telemetry", Kind: KindAuthenticated, AjaxOnly: true},
		// GraphQL: every field authorized (graphql_authz.go); the answer's
		// model versions are filtered.
		{Method: "GET", Pattern: "/graphql", Kind: KindGraphQL, NoAjax: true, Hook: FilterGraphQL},
		{Method: "POST", Pattern: "/graphql", Kind: KindGraphQL, NoAjax: true, Hook: FilterGraphQL},
	}
	// Everything below is admin-only for now: traces, webhooks, the AI
	// gateway, datasets, scorers, jobs, workspaces and the GenAI features.
	// Each needs its own resource resolution before ordinary users get it.
	const pending = "resource resolution not built yet"
	t = append(t, adminRoutes(pending)...)
	return t
}

func adminRoutes(note string) []Route {
	var t []Route
	add := func(path string, methods ...string) { t = append(t, adminAll(path, note, methods...)...) }
	addAjax := func(path string, methods ...string) {
		for _, r := range adminAll(path, note, methods...) {
			r.AjaxOnly = true
			t = append(t, r)
		}
	}
	add(v2+"get-online-trace-details", "GET")
	add(v2+"traces", "GET", "POST")
	add(v2+"traces/<request_id>", "PATCH")
	add(v2+"traces/<request_id>/info", "GET")
	add(v2+"traces/<request_id>/tags", "PATCH", "DELETE")
	add(v2+"traces/delete-traces", "POST")
	add(v2+"traces/link-prompts", "POST")
	add(v2+"traces/link-to-run", "POST")
	add(v2+"unified-traces", "GET")
	add(v2+"webhooks", "GET", "POST")
	add(v2+"webhooks/<webhook_id>", "GET", "PATCH", "DELETE")
	add(v2+"webhooks/<webhook_id>/test", "POST")
	for _, p := range []string{"/api/2.0mlflow/experiments/search-datasets", "/ajax-api/2.0mlflow/experiments/search-datasets"} {
		t = append(t, Route{Method: "POST", Pattern: p, Kind: KindAdmin, NoAjax: true, Note: "MLflow's misspelt path"})
	}
	addAjax(v2+"experiments/search-datasets", "POST")
	addAjax(v2+"gateway-proxy", "GET", "POST")
	addAjax(v2+"get-trace-artifact", "GET")
	addAjax(v3+"get-trace-artifact", "GET")
	addAjax(v2+"logged-models/<model_id>/artifacts/files", "GET")
	addAjax(v2+"metrics/get-history-bulk", "GET")
	addAjax(v2+"runs/create-promptlab-run", "POST")
	addAjax(v2+"upload-artifact", "POST")
	addAjax(v3+"demo/delete", "POST")
	addAjax(v3+"demo/generate", "POST")
	addAjax(v3+"gateway/provider-config", "GET")
	addAjax(v3+"gateway/secrets/config", "GET")
	addAjax(v3+"gateway/supported-models", "GET")
	addAjax(v3+"gateway/supported-providers", "GET")
	addAjax(v3+"genai/evaluate/invoke", "POST")
	addAjax(v3+"issues/invoke", "POST")
	addAjax(v3+"jobs/<job_id>", "GET")
	addAjax(v3+"jobs/cancel/<job_id>", "PATCH")
	addAjax(v3+"scorer/invoke", "POST")
	for _, ds := range []struct{ p, m string }{
		{"datasets/<dataset_id>", "GET,DELETE"}, {"datasets/<dataset_id>/add-experiments", "POST"},
		{"datasets/<dataset_id>/experiment-ids", "GET"}, {"datasets/<dataset_id>/records", "GET,POST,DELETE"},
		{"datasets/<dataset_id>/remove-experiments", "POST"}, {"datasets/<dataset_id>/tags", "PATCH"},
		{"datasets/<dataset_id>/tags/<key>", "DELETE"}, {"datasets/create", "POST"}, {"datasets/search", "GET,POST"},
		{"gateway/budgets/create", "POST"}, {"gateway/budgets/delete", "DELETE"}, {"gateway/budgets/get", "GET"},
		{"gateway/budgets/list", "GET"}, {"gateway/budgets/update", "POST"}, {"gateway/budgets/windows", "GET"},
		{"gateway/endpoints/bindings/create", "POST"}, {"gateway/endpoints/bindings/delete", "DELETE"},
		{"gateway/endpoints/bindings/list", "GET"}, {"gateway/endpoints/create", "POST"}, {"gateway/endpoints/delete", "DELETE"},
		{"gateway/endpoints/delete-tag", "DELETE"}, {"gateway/endpoints/get", "GET"}, {"gateway/endpoints/list", "GET"},
		{"gateway/endpoints/models/attach", "POST"}, {"gateway/endpoints/models/detach", "POST"},
		{"gateway/endpoints/set-tag", "POST"}, {"gateway/endpoints/update", "POST"},
		{"gateway/guardrails/add-to-endpoint", "POST"}, {"gateway/guardrails/create", "POST"}, {"gateway/guardrails/delete", "DELETE"},
		{"gateway/guardrails/get", "GET"}, {"gateway/guardrails/list", "GET"}, {"gateway/guardrails/list-for-endpoint", "GET"},
		{"gateway/guardrails/remove-from-endpoint", "DELETE"}, {"gateway/guardrails/update-config", "PATCH"},
		{"gateway/model-definitions/create", "POST"}, {"gateway/model-definitions/delete", "DELETE"},
		{"gateway/model-definitions/get", "GET"}, {"gateway/model-definitions/list", "GET"}, {"gateway/model-definitions/update", "POST"},
		{"gateway/secrets/create", "POST"}, {"gateway/secrets/delete", "DELETE"}, {"gateway/secrets/get", "GET"},
		{"gateway/secrets/list", "GET"}, {"gateway/secrets/update", "POST"},
		{"issues", "POST"}, {"issues/<issue_id>", "GET,PATCH"}, {"issues/search", "POST"},
		{"label-schemas/create", "POST"}, {"label-schemas/delete", "DELETE"}, {"label-schemas/get", "GET"},
		{"label-schemas/get-by-name", "GET"}, {"label-schemas/list", "GET"}, {"label-schemas/update", "PATCH"},
		{"prompt-optimization/jobs", "POST"}, {"prompt-optimization/jobs/<job_id>", "GET,DELETE"},
		{"prompt-optimization/jobs/<job_id>/cancel", "POST"}, {"prompt-optimization/jobs/search", "GET,POST"},
		{"review-queues/create", "POST"}, {"review-queues/delete", "POST"}, {"review-queues/get", "GET"},
		{"review-queues/get-by-name", "GET"}, {"review-queues/get-or-create-user", "POST"}, {"review-queues/items/add", "POST"},
		{"review-queues/items/list", "GET"}, {"review-queues/items/remove", "POST"}, {"review-queues/items/set-status", "POST"},
		{"review-queues/list", "GET"}, {"review-queues/update", "POST"},
		{"scorers/delete", "DELETE"}, {"scorers/get", "GET"}, {"scorers/list", "GET"}, {"scorers/online-config", "PUT"},
		{"scorers/online-configs", "GET"}, {"scorers/register", "POST"}, {"scorers/versions", "GET"},
		{"traces/calculate-filter-correlation", "POST"}, {"traces/metrics", "POST"},
		{"workspaces", "GET,POST"}, {"workspaces/<workspace_name>", "GET,PATCH,DELETE"},
		// FastAPI routers (MCP servers).
		{"mcp-servers", "GET,POST"}, {"mcp-servers/endpoints", "GET"},
		{"mcp-servers/<path:name>", "GET,PATCH,DELETE"},
		{"mcp-servers/<path:name>/versions", "GET,POST"},
		{"mcp-servers/<path:name>/versions/<path:version>", "GET,PATCH,DELETE"},
		{"mcp-servers/<path:name>/versions/<path:version>/tags", "POST"},
		{"mcp-servers/<path:name>/versions/<path:version>/tags/<path:key>", "DELETE"},
		{"mcp-servers/<path:name>/endpoints", "GET,POST"},
		{"mcp-servers/<path:name>/endpoints/<endpoint_id>", "GET,PATCH,DELETE"},
		{"mcp-servers/<path:name>/tags", "POST"}, {"mcp-servers/<path:name>/tags/<path:key>", "DELETE"},
		{"mcp-servers/<path:name>/aliases", "POST"}, {"mcp-servers/<path:name>/aliases/<path:alias>", "GET,DELETE"},
	} {
		add(v3+ds.p, strings.Split(ds.m, ",")...)
	}
	// FastAPI: jobs (UI only), the AI gateway's invocation routes, assistant.
	for _, j := range []struct{ p, m string }{
		{"/api/3.0/jobs/<job_id>", "GET"}, {"/api/3.0/jobs/", "POST"}, {"/api/3.0/jobs/cancel/<job_id>", "PATCH"}, {"/api/3.0/jobs/search", "POST"},
		{v3 + "assistant/message", "POST"}, {v3 + "assistant/sessions/<session_id>/stream", "GET"},
		{v3 + "assistant/sessions/<session_id>", "PATCH"}, {v3 + "assistant/sessions/<session_id>/permission", "POST"},
		{v3 + "assistant/sessions/<session_id>/tool-result", "POST"}, {v3 + "assistant/providers/<provider>/health", "GET"},
		{v3 + "assistant/providers", "GET"}, {v3 + "assistant/config", "GET,PUT"}, {v3 + "assistant/skills/install", "POST"},
		{v3 + "assistant/providers/<provider>/models", "GET"},
	} {
		addAjax(j.p, strings.Split(j.m, ",")...)
	}
	for _, g := range []struct{ p, m string }{
		{"/gateway/<endpoint_name>/mlflow/invocations", "POST"}, {"/gateway/mlflow/v1/chat/completions", "POST"},
		{"/gateway/mlflow/v1/models", "GET"}, {"/gateway/openai/v1/chat/completions", "POST"},
		{"/gateway/openai/v1/embeddings", "POST"}, {"/gateway/typesafe/v1/systemone", "POST"},
		{"/gateway/openai/v1/responses", "POST"}, {"/gateway/openai/v1/responses/compact", "POST"},
		{"/gateway/anthropic/v1/messages", "POST"},
		{"/gateway/gemini/v1beta/models/<endpoint_name>:generateContent", "POST"},
		{"/gateway/gemini/v1beta/models/<endpoint_name>:streamGenerateContent", "POST"},
		{"/gateway/proxy/<endpoint_name>/<path:path>", "POST"},
	} {
		for _, m := range strings.Split(g.m, ",") {
			t = append(t, Route{Method: m, Pattern: g.p, Kind: KindAdmin, NoAjax: true, Note: note})
		}
	}
	return t
}

// startTraceExperiment reads StartTraceV3's nested experiment id.
func startTraceExperiment(m *Message) ([]string, error) {
	v, err := m.Nested("trace", "trace_info", "trace_location", "mlflow_experiment", "experiment_id")
	if err != nil || v == nil {
		return nil, err
	}
	return []string{*v}, nil
}

// searchTraceExperiments reads every location of SearchTracesV3; a
// location that is not an MLflow experiment cannot be authorized.
func searchTraceExperiments(m *Message) ([]string, error) {
	if m.FromQuery {
		return nil, fmt.Errorf("%w: traces/search reads a JSON body", ErrAmbiguous)
	}
	raw, err := m.field(m.Body, "locations")
	if err != nil || raw == nil {
		return nil, err
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("%w: locations is not a non-empty list", ErrAmbiguous)
	}
	var out []string
	for _, l := range list {
		sub := &Message{Body: asObject(l)}
		v, err := sub.Nested("mlflow_experiment", "experiment_id")
		if err != nil {
			return nil, err
		}
		if v == nil || *v == "" {
			return nil, fmt.Errorf("%w: a trace location that is not an MLflow experiment", ErrAmbiguous)
		}
		out = append(out, *v)
	}
	return out, nil
}
