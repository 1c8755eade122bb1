package gateway

import (
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// Kind is what a route acts on. The resource kinds match store grants; the
// others say who may call a route that names no single resource.
type Kind string

const (
	KindExperiment      Kind = "experiment"
	KindRegisteredModel Kind = "registered_model"
	KindLoggedModel     Kind = "logged_model"
	KindTrace           Kind = "trace"
	KindWebhook         Kind = "webhook"
	KindGatewayEndpoint Kind = "gateway_endpoint"
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
	Direct                Via = iota
	RunToExperiment           // run id -> its experiment (upstream runs/get)
	LoggedModelToExp          // logged model id -> its experiment
	TraceToExperiment         // trace id -> its experiment (upstream GetTraceInfoV3)
	EndpointNameToID          // AI gateway endpoint name -> its id (upstream endpoints/get)
	PromptJobToExperiment     // prompt optimization job id -> its experiment
	// DatasetToExperiments: evaluation dataset id -> the experiments it is
	// linked to. READ needs the permission on any of them; anything more,
	// on every one (a change shows in all of them).
	DatasetToExperiments
	// LookupToExperiment: Check.Lookup names the resource (issue, label
	// schema, review queue) whose upstream get answers its experiment.
	LookupToExperiment
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
	// NonEmpty: a repeated field must name at least one id (a search over
	// no experiment could mean all of them).
	NonEmpty bool
	// Forbid names fields that must be absent: another way of naming the
	// resource the gateway does not check (endpoint name beside its id).
	Forbid []string
	Lookup string // with LookupToExperiment
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
	FilterWebhooks            // webhooks/list: keep webhooks the caller may read
	FilterEndpoints           // gateway/endpoints/list: keep endpoints the caller may read
	GrantCreatorLoggedModel   // logged-models create: the creator gets MANAGE on the model
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
		api("POST", v2+"runs/log-inputs", KindExperiment, run(E), linkedModels),
		api("POST", v2+"runs/outputs", KindExperiment, run(E), linkedModels),
		api("POST", v2+"runs/search", KindExperiment, Check{Fields: []string{"experiment_ids"}, Repeated: true, Kind: KindExperiment, Perm: R}),
		api("GET", v2+"metrics/get-history", KindExperiment, run(R)),
		api("GET", v2+"metrics/get-history-bulk-interval", KindExperiment,
			Check{Fields: []string{"run_ids"}, Repeated: true, Via: RunToExperiment, Kind: KindExperiment, Perm: R}),
		api("GET", v2+"artifacts/list", KindExperiment, run(R)),
		admin("POST", v2+"artifacts/presigned-download-url", "presigned URLs bypass the gateway"),
		admin("POST", v2+"artifacts/presigned-upload-url", "presigned URLs bypass the gateway"),
		// Logged models (MLflow 3): resolved to their experiment.
		withHook(api("POST", v2+"logged-models", KindExperiment, exp("experiment_id", E), sourceRun), GrantCreatorLoggedModel),
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
		api("POST", v2+"model-versions/create", KindRegisteredModel, append([]Check{model("name", E),
			{Fields: []string{"run_id"}, Via: RunToExperiment, Kind: KindExperiment, Perm: R, Optional: true}}, versionSourceChecks()...)...),
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
			Checks: []Check{{Fields: []string{"X-Mlflow-Experiment-Id"}, Source: FromHeader, Kind: KindExperiment, Perm: E}, otlpRun}},
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
	t = append(t, resourceRoutes()...)
	t = append(t, adminRoutes()...)
	return t
}

// adminRoutes are the routes that stay with administrators, each with the
// reason no per-resource grant can cover it (docs/serve.md lists them).
func adminRoutes() []Route {
	var t []Route
	group := func(note string, ajaxOnly bool, rows ...string) {
		for _, row := range rows {
			path, methods, _ := strings.Cut(row, " ")
			for _, m := range strings.Split(methods, ",") {
				r := admin(m, path, note)
				r.AjaxOnly = ajaxOnly
				if !strings.HasPrefix(path, "/api/") {
					r.NoAjax = true
				}
				t = append(t, r)
			}
		}
	}
	group("Databricks-only RPC with no open-source handler", false,
		v2+"get-online-trace-details GET", v2+"unified-traces GET")
	group("a webhook receives registry events of every model; no per-model grant covers creating one", false,
		v2+"webhooks POST")
	group("proxies to the deployments server at a client-chosen path; the endpoint cannot be told", true,
		v2+"gateway-proxy GET,POST")
	group("demo data generation and deletion change the whole server", true,
		v3+"demo/delete POST", v3+"demo/generate POST")
	group("runs client-supplied scorers or LLM judges on the server with its secrets", true,
		v3+"genai/evaluate/invoke POST", v3+"issues/invoke POST", v3+"scorer/invoke POST")
	group("job ids name no experiment the gateway can resolve; job parameters are free-form", true,
		v3+"jobs/<job_id> GET", v3+"jobs/cancel/<job_id> PATCH",
		"/api/3.0/jobs/<job_id> GET", "/api/3.0/jobs/ POST", "/api/3.0/jobs/cancel/<job_id> PATCH", "/api/3.0/jobs/search POST")
	group("AI gateway secrets, model definitions, budgets and guardrails hold or spend provider credentials", false,
		v3+"gateway/budgets/create POST", v3+"gateway/budgets/delete DELETE", v3+"gateway/budgets/get GET",
		v3+"gateway/budgets/list GET", v3+"gateway/budgets/update POST", v3+"gateway/budgets/windows GET",
		v3+"gateway/guardrails/add-to-endpoint POST", v3+"gateway/guardrails/create POST", v3+"gateway/guardrails/delete DELETE",
		v3+"gateway/guardrails/get GET", v3+"gateway/guardrails/list GET",
		v3+"gateway/guardrails/remove-from-endpoint DELETE", v3+"gateway/guardrails/update-config PATCH",
		v3+"gateway/model-definitions/create POST", v3+"gateway/model-definitions/delete DELETE",
		v3+"gateway/model-definitions/get GET", v3+"gateway/model-definitions/list GET", v3+"gateway/model-definitions/update POST",
		v3+"gateway/secrets/create POST", v3+"gateway/secrets/delete DELETE", v3+"gateway/secrets/get GET",
		v3+"gateway/secrets/list GET", v3+"gateway/secrets/update POST")
	group("creating an endpoint or changing its models picks model definitions, so provider secrets", false,
		v3+"gateway/endpoints/create POST", v3+"gateway/endpoints/models/attach POST", v3+"gateway/endpoints/models/detach POST")
	group("a binding ties an endpoint to a resource of any type; the gateway cannot judge the target", false,
		v3+"gateway/endpoints/bindings/create POST", v3+"gateway/endpoints/bindings/delete DELETE")
	group("lists every endpoint with no id to filter on / body format not known", false,
		"/gateway/mlflow/v1/models GET", "/gateway/openai/v1/responses/compact POST")
	group("a registered scorer is code the server later runs; online configs are keyed by scorer id", false,
		v3+"scorers/online-configs GET", v3+"scorers/register POST")
	group("workspaces are server-wide administration", false,
		v3+"workspaces GET,POST", v3+"workspaces/<workspace_name> GET,PATCH,DELETE")
	group("MCP server registry: no resource kind for it yet", false,
		v3+"mcp-servers GET,POST", v3+"mcp-servers/endpoints GET",
		v3+"mcp-servers/<path:name> GET,PATCH,DELETE",
		v3+"mcp-servers/<path:name>/versions GET,POST",
		v3+"mcp-servers/<path:name>/versions/<path:version> GET,PATCH,DELETE",
		v3+"mcp-servers/<path:name>/versions/<path:version>/tags POST",
		v3+"mcp-servers/<path:name>/versions/<path:version>/tags/<path:key> DELETE",
		v3+"mcp-servers/<path:name>/endpoints GET,POST",
		v3+"mcp-servers/<path:name>/endpoints/<endpoint_id> GET,PATCH,DELETE",
		v3+"mcp-servers/<path:name>/tags POST", v3+"mcp-servers/<path:name>/tags/<path:key> DELETE",
		v3+"mcp-servers/<path:name>/aliases POST", v3+"mcp-servers/<path:name>/aliases/<path:alias> GET,DELETE")
	group("the assistant runs tools and installs skills on the server", true,
		v3+"assistant/message POST", v3+"assistant/sessions/<session_id>/stream GET",
		v3+"assistant/sessions/<session_id> PATCH", v3+"assistant/sessions/<session_id>/permission POST",
		v3+"assistant/sessions/<session_id>/tool-result POST", v3+"assistant/providers/<provider>/health GET",
		v3+"assistant/providers GET", v3+"assistant/config GET,PUT", v3+"assistant/skills/install POST",
		v3+"assistant/providers/<provider>/models GET")
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
var searchTraceExperiments = listedStrings{route: "traces/search", field: "locations", nonEmpty: true,
	path:      []string{"mlflow_experiment", "experiment_id"},
	notObject: "a trace location that is not an MLflow experiment", missing: "a trace location that is not an MLflow experiment"}.extract
