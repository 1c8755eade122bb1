package policy

import (
	"strings"
)

// Field names what a checked value is, in findings and config.
type Field string

const (
	FieldParam       Field = "param"
	FieldTag         Field = "tag"
	FieldRunName     Field = "run_name"
	FieldMetricKey   Field = "metric_key"
	FieldDataset     Field = "dataset_source"
	FieldName        Field = "name"
	FieldPath        Field = "artifact_path"
	FieldSource      Field = "model_version_source"
	FieldLocation    Field = "artifact_location"
	FieldURL         Field = "url"
	FieldGatewayPath Field = "gateway_path"
)

// kind is what a field spec checks.
type kind int

const (
	kPair        kind = iota // key and value: secrets by key and value
	kValue                   // value alone: secrets (run names, dataset sources)
	kKey                     // key alone: secrets (metric keys)
	kRelPath                 // artifact path relative to a root (MLG301)
	kSource                  // model-version source URI (MLG301, SSRF)
	kLocation                // artifact location URI (MLG205, MLG304, SSRF)
	kURL                     // outbound URL (SSRF)
	kURLMap                  // every URL-looking value of a string map (SSRF)
	kGatewayPath             // gateway-proxy path (CVE-2025-52967)
	kTree                    // every string under a field: secrets (routes_tree.go)
)

// step walks into a message field: a repeated message (many) or a single one.
type step struct {
	name string
	many bool
}

// spec is one checked field of a route: where the objects are (at), which
// of their fields hold the key and the value, and MLflow's length caps.
type spec struct {
	at         []step
	kind       kind
	field      Field
	key, value string
	keyMax     int
	valueMax   int
}

// route is one MLflow route whose body or query the policies read.
type route struct {
	name      string // path suffix pattern, "{x}" matches one segment
	methods   []string
	versions  []string // "2.0", "3.0"
	queryOnly bool     // read request.args directly (non-proto Flask views)
	specs     []spec
}

var (
	many = func(n string) step { return step{n, true} }
	one  = func(n string) step { return step{n, false} }
)

// MLflow's caps (mlflow/utils/validation.py): keys 250; param values 6000;
// run and trace tag values 8000; experiment tag values 20000; registry tag
// values 100000; dataset sources 65535; input tags 255/500.
func pair(f Field, vmax int, at ...step) spec {
	return spec{at: at, kind: kPair, field: f, key: "key", value: "value", keyMax: 250, valueMax: vmax}
}

var v2, v3, both = []string{"2.0"}, []string{"3.0"}, []string{"2.0", "3.0"}

// routes lists the MLflow routes whose fields the policies check (one row
// per route; the mlflow-http-surface reference, §1).
var routes = []route{
	{name: "runs/log-parameter", methods: []string{"POST"}, versions: v2, specs: []spec{pair(FieldParam, 6000)}},
	{name: "runs/log-batch", methods: []string{"POST"}, versions: v2, specs: []spec{
		pair(FieldParam, 6000, many("params")), pair(FieldTag, 8000, many("tags")),
		{at: []step{many("metrics")}, kind: kKey, field: FieldMetricKey, key: "key", keyMax: 250}}},
	{name: "runs/set-tag", methods: []string{"POST"}, versions: v2, specs: []spec{pair(FieldTag, 8000)}},
	{name: "runs/log-metric", methods: []string{"POST"}, versions: v2, specs: []spec{
		{kind: kKey, field: FieldMetricKey, key: "key", keyMax: 250}}},
	{name: "runs/create", methods: []string{"POST"}, versions: v2, specs: []spec{
		{kind: kValue, field: FieldRunName, value: "run_name", valueMax: 250}, pair(FieldTag, 8000, many("tags"))}},
	{name: "runs/update", methods: []string{"POST"}, versions: v2, specs: []spec{
		{kind: kValue, field: FieldRunName, value: "run_name", valueMax: 250}}},
	{name: "runs/log-inputs", methods: []string{"POST"}, versions: v2, specs: []spec{
		{at: []step{many("datasets"), one("dataset")}, kind: kValue, field: FieldDataset, key: "name", value: "source", keyMax: 500, valueMax: 65535},
		{at: []step{many("datasets"), many("tags")}, kind: kPair, field: FieldTag, key: "key", value: "value", keyMax: 255, valueMax: 500},
		tree(FieldDataset, "profile", many("datasets"), one("dataset")), tree(FieldDataset, "schema", many("datasets"), one("dataset")),
		tree(FieldDataset, "source_type", many("datasets"), one("dataset"))}},
	{name: "experiments/create", methods: []string{"POST"}, versions: v2, specs: []spec{
		tree(FieldName, "name"),
		pair(FieldTag, 20000, many("tags")),
		{kind: kLocation, field: FieldLocation, value: "artifact_location"}}},
	{name: "experiments/set-experiment-tag", methods: []string{"POST"}, versions: v2, specs: []spec{pair(FieldTag, 20000)}},
	{name: "registered-models/create", methods: []string{"POST"}, versions: v2, specs: []spec{pair(FieldTag, 100000, many("tags")), tree(FieldDescription, "description"), tree(FieldName, "name")}},
	{name: "registered-models/set-tag", methods: []string{"POST"}, versions: v2, specs: []spec{pair(FieldTag, 100000)}},
	{name: "model-versions/create", methods: []string{"POST"}, versions: v2, specs: []spec{
		tree(FieldDescription, "description"),
		pair(FieldTag, 100000, many("tags")),
		{kind: kSource, field: FieldSource, value: "source"}}},
	{name: "model-versions/set-tag", methods: []string{"POST"}, versions: v2, specs: []spec{pair(FieldTag, 100000)}},
	{name: "logged-models", methods: []string{"POST"}, versions: v2, specs: []spec{
		{kind: kValue, field: FieldName, value: "name", valueMax: 250}, tree(FieldName, "model_type"),
		pair(FieldParam, 6000, many("params")), pair(FieldTag, 8000, many("tags"))}},
	{name: "logged-models/{id}/tags", methods: []string{"PATCH"}, versions: v2, specs: []spec{pair(FieldTag, 8000, many("tags"))}},
	{name: "logged-models/{id}/params", methods: []string{"POST"}, versions: v2, specs: []spec{pair(FieldParam, 6000, many("params"))}},
	{name: "traces/{id}/tags", methods: []string{"PATCH"}, versions: both, specs: []spec{pair(FieldTag, 8000)}},
	{name: "artifacts/list", methods: []string{"GET"}, versions: v2, specs: []spec{{kind: kRelPath, field: FieldPath, value: "path"}}},
	{name: "artifacts/presigned-upload-url", methods: []string{"POST"}, versions: v2, specs: []spec{{kind: kRelPath, field: FieldPath, value: "path"}}},
	{name: "artifacts/presigned-download-url", methods: []string{"POST"}, versions: v2, specs: []spec{{kind: kRelPath, field: FieldPath, value: "path"}}},
	{name: "webhooks", methods: []string{"POST"}, versions: v2, specs: []spec{{kind: kURL, field: FieldURL, value: "url"}}},
	{name: "webhooks/{id}", methods: []string{"PATCH"}, versions: v2, specs: []spec{{kind: kURL, field: FieldURL, value: "url"}}},
	{name: "workspaces", methods: []string{"POST"}, versions: v3, specs: []spec{{kind: kLocation, field: FieldLocation, value: "default_artifact_root"}}},
	{name: "workspaces/{name}", methods: []string{"PATCH"}, versions: v3, specs: []spec{{kind: kLocation, field: FieldLocation, value: "default_artifact_root"}}},
	{name: "gateway/secrets/create", methods: []string{"POST"}, versions: v3, specs: []spec{{kind: kURLMap, field: FieldURL, value: "auth_config"}}},
	{name: "gateway/secrets/update", methods: []string{"POST", "PATCH"}, versions: v3, specs: []spec{{kind: kURLMap, field: FieldURL, value: "auth_config"}}},
	{name: "gateway-proxy", methods: []string{"GET", "POST"}, versions: v2, specs: []spec{{kind: kGatewayPath, field: FieldGatewayPath, value: "gateway_path"}}},
	{name: "upload-artifact", methods: []string{"POST"}, versions: v2, queryOnly: true, specs: []spec{{kind: kRelPath, field: FieldPath, value: "path"}}},
	{name: "logged-models/{id}/artifacts/files", methods: []string{"GET"}, versions: v2, queryOnly: true, specs: []spec{{kind: kRelPath, field: FieldPath, value: "artifact_file_path"}}},
}

// rootRoutes are the non-proto Flask views at the server root.
var rootRoutes = map[string]route{
	"/get-artifact":                {name: "get-artifact", methods: []string{"GET"}, queryOnly: true, specs: []spec{{kind: kRelPath, field: FieldPath, value: "path"}}},
	"/model-versions/get-artifact": {name: "model-versions/get-artifact", methods: []string{"GET"}, queryOnly: true, specs: []spec{{kind: kRelPath, field: FieldPath, value: "path"}}},
}

// matchRoute finds the route for a method and URL path. The path is
// matched on its raw (encoded) form: Flask routes on the decoded path, but
// none of these routes has a '%' in its fixed segments, and a decoded '/'
// inside an id segment only makes the route miss (MLflow would 404 too).
func matchRoute(method, path string) (*route, bool) {
	if r, ok := rootRoutes[path]; ok {
		return methodOK(&r, method)
	}
	for _, pre := range []struct{ prefix, version string }{
		{"/api/2.0/mlflow/", "2.0"}, {"/ajax-api/2.0/mlflow/", "2.0"},
		{"/api/3.0/mlflow/", "3.0"}, {"/ajax-api/3.0/mlflow/", "3.0"},
	} {
		rest, ok := strings.CutPrefix(path, pre.prefix)
		if !ok {
			continue
		}
		for i := range routes {
			r := &routes[i]
			if contains(r.versions, pre.version) && segMatch(r.name, rest) {
				return methodOK(r, method)
			}
		}
	}
	return nil, false
}

func methodOK(r *route, method string) (*route, bool) {
	if contains(r.methods, method) {
		return r, true
	}
	return nil, false
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func segMatch(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if p != xs[i] {
			return false
		}
	}
	return true
}
