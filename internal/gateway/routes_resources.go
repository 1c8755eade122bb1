package gateway

import (
	"fmt"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// Rows that were admin-only until their resources could be resolved:
// v2 traces and the UI's trace, metric, artifact and dataset helpers;
// webhooks; AI gateway endpoints and their invocations; scorers; prompt
// optimization jobs; evaluation-dataset searches. Every row names the
// resource kind, where its id is read and the permission it needs; ids
// that name a child (trace, logged model, run, job, endpoint name) resolve
// through bounded upstream lookups that deny on failure.

func expList(field string, p store.Permission) Check {
	return Check{Fields: []string{field}, Repeated: true, NonEmpty: true, Kind: KindExperiment, Perm: p}
}

func webhook(p store.Permission) Check {
	return Check{Fields: []string{"webhook_id"}, Source: FromPathVar, Kind: KindWebhook, Perm: p}
}

func endpoint(p store.Permission) Check {
	return Check{Fields: []string{"endpoint_id"}, Kind: KindGatewayEndpoint, Perm: p}
}

// endpointByName authorizes an invocation: the name (path variable or the
// body's "model") resolves to the endpoint id grants are keyed by.
func endpointByName(source Source, field string) Check {
	return Check{Fields: []string{field}, Source: source, Via: EndpointNameToID, Kind: KindGatewayEndpoint, Perm: U}
}

func byLookup(lookup, field string, src Source, p store.Permission) Check {
	return Check{Fields: []string{field}, Source: src, Via: LookupToExperiment, Lookup: lookup, Kind: KindExperiment, Perm: p}
}

func dataset(p store.Permission) Check {
	return Check{Fields: []string{"dataset_id"}, Source: FromPathVar, Via: DatasetToExperiments, Kind: KindExperiment, Perm: p}
}

func promptJob(p store.Permission) Check {
	return Check{Fields: []string{"job_id"}, Source: FromPathVar, Via: PromptJobToExperiment, Kind: KindExperiment, Perm: p}
}

func resourceRoutes() []Route {
	ajax := func(r Route) Route { r.AjaxOnly = true; return r }
	streamed := func(r Route) Route { r.Class = ClassArtifact; return r }
	t := []Route{
		// Traces (v2 API), resolved to their experiment; a grant on the
		// trace itself also counts.
		api("POST", v2+"traces", KindExperiment, exp("experiment_id", E)),
		api("GET", v2+"traces", KindExperiment, expList("experiment_ids", R)),
		api("PATCH", v2+"traces/<request_id>", KindExperiment, trace(FromPathVar, "request_id", E)),
		api("GET", v2+"traces/<request_id>/info", KindExperiment, trace(FromPathVar, "request_id", R)),
		api("PATCH", v2+"traces/<request_id>/tags", KindExperiment, trace(FromPathVar, "request_id", E)),
		api("DELETE", v2+"traces/<request_id>/tags", KindExperiment, trace(FromPathVar, "request_id", E)),
		api("POST", v2+"traces/delete-traces", KindExperiment, exp("experiment_id", M)),
		// Linking prompts to a trace: EDIT on the trace, READ on each prompt.
		api("POST", v2+"traces/link-prompts", KindExperiment, trace(FromMessage, "trace_id", E),
			Check{Fields: []string{"prompt_versions"}, Kind: KindRegisteredModel, Perm: R, Repeated: true, NonEmpty: true, Extract: promptVersionNames}),
		// Linking traces to a run: EDIT on every trace and on the run.
		api("POST", v2+"traces/link-to-run", KindExperiment,
			Check{Fields: []string{"trace_ids"}, Repeated: true, NonEmpty: true, Via: TraceToExperiment, Kind: KindExperiment, Perm: E},
			Check{Fields: []string{"run_id"}, Via: RunToExperiment, Kind: KindExperiment, Perm: E}),
		api("POST", v3+"traces/calculate-filter-correlation", KindExperiment, expList("experiment_ids", R)),
		api("POST", v3+"traces/metrics", KindExperiment, expList("experiment_ids", R)),
		// UI helpers.
		streamed(ajax(api("GET", v2+"get-trace-artifact", KindExperiment, trace(FromMessage, "request_id", R)))),
		streamed(ajax(api("GET", v3+"get-trace-artifact", KindExperiment, trace(FromMessage, "request_id", R)))),
		streamed(ajax(api("GET", v2+"logged-models/<model_id>/artifacts/files", KindExperiment, loggedModel(R)))),
		ajax(api("GET", v2+"metrics/get-history-bulk", KindExperiment,
			Check{Fields: []string{"run_id"}, Repeated: true, NonEmpty: true, Via: RunToExperiment, Kind: KindExperiment, Perm: R})),
		// The file is the body; the run is named in the query string.
		streamed(ajax(api("POST", v2+"upload-artifact", KindExperiment,
			Check{Fields: []string{"run_uuid"}, Via: RunToExperiment, Kind: KindExperiment, Perm: E}))),
		ajax(api("POST", v2+"runs/create-promptlab-run", KindExperiment, exp("experiment_id", E))),
		ajax(api("POST", v2+"experiments/search-datasets", KindExperiment, expList("experiment_ids", R))),
		// MLflow also serves this handler at a misspelt path (no slash).
		{Method: "POST", Pattern: "/api/2.0mlflow/experiments/search-datasets", Kind: KindExperiment, NoAjax: true, Checks: []Check{expList("experiment_ids", R)}},
		{Method: "POST", Pattern: "/ajax-api/2.0mlflow/experiments/search-datasets", Kind: KindExperiment, NoAjax: true, Checks: []Check{expList("experiment_ids", R)}},
		// Webhooks: a grant on the webhook. Creating one stays with admins: a
		// webhook receives registry events of every model, which no
		// per-model grant covers.
		withHook(api("GET", v2+"webhooks", KindAuthenticated), FilterWebhooks),
		api("GET", v2+"webhooks/<webhook_id>", KindWebhook, webhook(R)),
		api("PATCH", v2+"webhooks/<webhook_id>", KindWebhook, webhook(E)),
		api("DELETE", v2+"webhooks/<webhook_id>", KindWebhook, webhook(M)),
		api("POST", v2+"webhooks/<webhook_id>/test", KindWebhook, webhook(U)),
		// AI gateway endpoints: grants keyed by endpoint id. Creating an
		// endpoint, or changing its models, picks model definitions and so
		// their secrets, which stay with admins.
		withHook(api("GET", v3+"gateway/endpoints/list", KindAuthenticated), FilterEndpoints),
		api("GET", v3+"gateway/endpoints/get", KindGatewayEndpoint, Check{Fields: []string{"endpoint_id"}, Kind: KindGatewayEndpoint, Perm: R, Forbid: []string{"name"}}),
		api("POST", v3+"gateway/endpoints/update", KindGatewayEndpoint,
			Check{Fields: []string{"endpoint_id"}, Kind: KindGatewayEndpoint, Perm: E, Forbid: []string{"model_configs", "fallback_config"}},
			Check{Fields: []string{"experiment_id"}, Kind: KindExperiment, Perm: E, Optional: true}),
		api("DELETE", v3+"gateway/endpoints/delete", KindGatewayEndpoint, endpoint(M)),
		api("POST", v3+"gateway/endpoints/set-tag", KindGatewayEndpoint, endpoint(E)),
		api("DELETE", v3+"gateway/endpoints/delete-tag", KindGatewayEndpoint, endpoint(E)),
		api("GET", v3+"gateway/endpoints/bindings/list", KindGatewayEndpoint, endpoint(R)),
		api("GET", v3+"gateway/guardrails/list-for-endpoint", KindGatewayEndpoint, endpoint(R)),
		// Static capability lists the gateway UI reads; no secret material.
		ajax(api("GET", v3+"gateway/supported-providers", KindAuthenticated)),
		ajax(api("GET", v3+"gateway/supported-models", KindAuthenticated)),
		ajax(api("GET", v3+"gateway/provider-config", KindAuthenticated)),
		ajax(api("GET", v3+"gateway/secrets/config", KindAuthenticated)),
		// Scorers live in an experiment. Registering one stays with admins:
		// a serialized scorer is code the server later runs.
		api("GET", v3+"scorers/list", KindExperiment, Check{Fields: []string{"experiment_id", "experiment_ids"}, Repeated: true, NonEmpty: true,
			Kind: KindExperiment, Perm: R, Extract: scorerListExperiments}),
		api("GET", v3+"scorers/get", KindExperiment, exp("experiment_id", R)),
		api("GET", v3+"scorers/versions", KindExperiment, exp("experiment_id", R)),
		api("DELETE", v3+"scorers/delete", KindExperiment, exp("experiment_id", M)),
		api("PUT", v3+"scorers/online-config", KindExperiment, exp("experiment_id", E)),
		// Prompt optimization jobs: the experiment, and EDIT on the prompt
		// (the job registers the optimized version).
		api("POST", v3+"prompt-optimization/jobs", KindExperiment, exp("experiment_id", E),
			Check{Fields: []string{"source_prompt_uri"}, Kind: KindRegisteredModel, Perm: E, Extract: promptOfURI}),
		api("GET", v3+"prompt-optimization/jobs/search", KindExperiment, exp("experiment_id", R)),
		api("POST", v3+"prompt-optimization/jobs/search", KindExperiment, exp("experiment_id", R)),
		api("GET", v3+"prompt-optimization/jobs/<job_id>", KindExperiment, promptJob(R)),
		api("DELETE", v3+"prompt-optimization/jobs/<job_id>", KindExperiment, promptJob(M)),
		api("POST", v3+"prompt-optimization/jobs/<job_id>/cancel", KindExperiment, promptJob(E)),
		// Evaluation datasets: creating one in experiments needs EDIT on
		// each; a search is limited to experiments the caller may read.
		api("POST", v3+"datasets/create", KindExperiment, expList("experiment_ids", E)),
		api("GET", v3+"datasets/search", KindExperiment, expList("experiment_ids", R)),
		api("POST", v3+"datasets/search", KindExperiment, expList("experiment_ids", R)),
		// By id: the dataset resolves to the experiments it is linked to.
		api("GET", v3+"datasets/<dataset_id>", KindExperiment, dataset(R)),
		api("DELETE", v3+"datasets/<dataset_id>", KindExperiment, dataset(M)),
		api("GET", v3+"datasets/<dataset_id>/experiment-ids", KindExperiment, dataset(R)),
		api("GET", v3+"datasets/<dataset_id>/records", KindExperiment, dataset(R)),
		api("POST", v3+"datasets/<dataset_id>/records", KindExperiment, dataset(E)),
		api("DELETE", v3+"datasets/<dataset_id>/records", KindExperiment, dataset(E)),
		api("PATCH", v3+"datasets/<dataset_id>/tags", KindExperiment, dataset(E)),
		api("DELETE", v3+"datasets/<dataset_id>/tags/<key>", KindExperiment, dataset(E)),
		// Linking: EDIT on the dataset's experiments and on each one named.
		api("POST", v3+"datasets/<dataset_id>/add-experiments", KindExperiment, dataset(E), expList("experiment_ids", E)),
		api("POST", v3+"datasets/<dataset_id>/remove-experiments", KindExperiment, dataset(E), expList("experiment_ids", E)),
		// Issues, label schemas and review queues live in one experiment.
		api("POST", v3+"issues", KindExperiment, exp("experiment_id", E)),
		api("POST", v3+"issues/search", KindExperiment, exp("experiment_id", R)),
		api("GET", v3+"label-schemas/get-by-name", KindExperiment, exp("experiment_id", R)),
		api("GET", v3+"label-schemas/list", KindExperiment, exp("experiment_id", R)),
		api("POST", v3+"label-schemas/create", KindExperiment, exp("experiment_id", M)),
		api("GET", v3+"review-queues/get-by-name", KindExperiment, exp("experiment_id", R)),
		api("GET", v3+"review-queues/list", KindExperiment, exp("experiment_id", R)),
		api("POST", v3+"review-queues/create", KindExperiment, exp("experiment_id", E)),
		api("POST", v3+"review-queues/get-or-create-user", KindExperiment, exp("experiment_id", E)),
		// By id, resolved to the experiment through an upstream get.
		api("GET", v3+"issues/<issue_id>", KindExperiment, byLookup("issue", "issue_id", FromPathVar, R)),
		api("PATCH", v3+"issues/<issue_id>", KindExperiment, byLookup("issue", "issue_id", FromPathVar, E)),
		api("GET", v3+"label-schemas/get", KindExperiment, byLookup("label_schema", "schema_id", FromMessage, R)),
		api("PATCH", v3+"label-schemas/update", KindExperiment, byLookup("label_schema", "schema_id", FromMessage, M)),
		api("DELETE", v3+"label-schemas/delete", KindExperiment, byLookup("label_schema", "schema_id", FromMessage, M)),
		api("GET", v3+"review-queues/get", KindExperiment, byLookup("review_queue", "queue_id", FromMessage, R)),
		api("POST", v3+"review-queues/update", KindExperiment, byLookup("review_queue", "queue_id", FromMessage, M)),
		api("POST", v3+"review-queues/delete", KindExperiment, byLookup("review_queue", "queue_id", FromMessage, M)),
		api("GET", v3+"review-queues/items/list", KindExperiment, byLookup("review_queue", "queue_id", FromMessage, R)),
		api("POST", v3+"review-queues/items/add", KindExperiment, byLookup("review_queue", "queue_id", FromMessage, E)),
		api("POST", v3+"review-queues/items/remove", KindExperiment, byLookup("review_queue", "queue_id", FromMessage, E)),
		api("POST", v3+"review-queues/items/set-status", KindExperiment, byLookup("review_queue", "queue_id", FromMessage, E)),
	}
	// AI gateway invocations: USE on the endpoint named in the path, or in
	// the body's "model" for the OpenAI- and Anthropic-style routes.
	invocations := func(c Check, patterns ...string) {
		for _, p := range patterns {
			t = append(t, Route{Method: "POST", Pattern: p, Kind: KindGatewayEndpoint, NoAjax: true, Checks: []Check{c}})
		}
	}
	invocations(endpointByName(FromPathVar, "endpoint_name"),
		"/gateway/<endpoint_name>/mlflow/invocations",
		"/gateway/gemini/v1beta/models/<endpoint_name>:generateContent",
		"/gateway/gemini/v1beta/models/<endpoint_name>:streamGenerateContent",
		"/gateway/proxy/<endpoint_name>/<path:path>")
	invocations(endpointByName(FromMessage, "model"),
		"/gateway/mlflow/v1/chat/completions", "/gateway/openai/v1/chat/completions",
		"/gateway/openai/v1/embeddings", "/gateway/openai/v1/responses",
		"/gateway/anthropic/v1/messages", "/gateway/typesafe/v1/systemone")
	return t
}

// promptVersionNames reads LinkPromptsToTrace's prompt_versions[].name.
var promptVersionNames = listedStrings{route: "link-prompts", field: "prompt_versions",
	path:      []string{"name"},
	notObject: "a prompt version is not an object", missing: "a prompt version names no prompt"}.extract

// listedStrings is an Extract that reads one string from every object of
// a list in the JSON body (a query string cannot carry one). A value that
// is not a list, an element that is not an object or lacks the string is
// ErrAmbiguous, in the route's own words.
type listedStrings struct {
	route, field       string
	nonEmpty           bool     // an empty list is refused too
	path               []string // of the string inside each element
	notObject, missing string
}

func (l listedStrings) extract(m *Message) ([]string, error) {
	if m.FromQuery {
		return nil, fmt.Errorf("%w: %s reads a JSON body", ErrAmbiguous, l.route)
	}
	raw, err := m.field(m.Body, l.field)
	if err != nil || raw == nil {
		return nil, err
	}
	list, ok := raw.([]any)
	switch {
	case l.nonEmpty && (!ok || len(list) == 0):
		return nil, fmt.Errorf("%w: %s is not a non-empty list", ErrAmbiguous, l.field)
	case !ok:
		return nil, fmt.Errorf("%w: %s is not a list", ErrAmbiguous, l.field)
	}
	var out []string
	for _, e := range list {
		obj := asObject(e) // a JSON object, even {}, is never nil here
		if obj == nil {
			return nil, fmt.Errorf("%w: %s", ErrAmbiguous, l.notObject)
		}
		v, err := (&Message{Body: obj}).Nested(l.path...)
		if err != nil {
			return nil, err
		}
		if v == nil || *v == "" {
			return nil, fmt.Errorf("%w: %s", ErrAmbiguous, l.missing)
		}
		out = append(out, *v)
	}
	return out, nil
}

// promptOfURI reads the prompt a prompt optimization job optimizes from
// "prompts:/NAME/VERSION" or "prompts:/NAME@ALIAS"; any other form is
// refused rather than guessed.
func promptOfURI(m *Message) ([]string, error) {
	v, ok, err := m.Value([]string{"source_prompt_uri"})
	if err != nil || !ok {
		return nil, err
	}
	rest, found := strings.CutPrefix(v, "prompts:/")
	if !found {
		return nil, fmt.Errorf("%w: source_prompt_uri %q is not a prompts:/ URI", ErrAmbiguous, v)
	}
	name := ""
	if n, alias, isAlias := strings.Cut(rest, "@"); isAlias {
		if strings.Contains(n, "/") || alias == "" || strings.ContainsAny(alias, "/@") {
			return nil, fmt.Errorf("%w: source_prompt_uri %q", ErrAmbiguous, v)
		}
		name = n
	} else {
		parts := strings.Split(rest, "/")
		if len(parts) != 2 || parts[1] == "" {
			return nil, fmt.Errorf("%w: source_prompt_uri %q", ErrAmbiguous, v)
		}
		name = parts[0]
	}
	if name == "" {
		return nil, fmt.Errorf("%w: source_prompt_uri %q names no prompt", ErrAmbiguous, v)
	}
	return []string{name}, nil
}

// scorerListExperiments reads ListScorers' experiment_id and
// experiment_ids; with neither, MLflow lists every experiment's scorers,
// which no grant covers.
func scorerListExperiments(m *Message) ([]string, error) {
	one, _, err := m.Value([]string{"experiment_id"})
	if err != nil {
		return nil, err
	}
	many, err := m.Values("experiment_ids", true)
	if err != nil {
		return nil, err
	}
	if one != "" {
		many = append(many, one)
	}
	return many, nil // none: the row's NonEmpty denies
}
