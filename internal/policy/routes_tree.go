package policy

import (
	"fmt"
	"sort"
)

// Fields that hold free text MLflow stores and shows back verbatim, found
// unchecked by sending secrets through the gateway to the pinned MLflow
// server: dataset profiles, schemas and source types; the model JSON of
// runs/log-model (kept as the mlflow.log-model.history run tag); trace
// tags and metadata (v2 and v3); assessments; registered-model and
// version descriptions; experiment names.

// FieldDescription is a registered model's or version's description.
const FieldDescription Field = "description"

// tree checks every string under field (the field itself when it is a
// string): map entries as key and value, other strings by value alone.
func tree(f Field, field string, at ...step) spec {
	return spec{at: at, kind: kTree, field: f, value: field}
}

// treeRoutes extend routes (init below): new rows only, so no existing
// row's meaning changes.
var treeRoutes = []route{
	{name: "runs/log-model", methods: []string{"POST"}, versions: v2, specs: []spec{tree(FieldTag, "model_json")}},
	{name: "experiments/update", methods: []string{"POST"}, versions: v2, specs: []spec{tree(FieldName, "new_name")}},
	{name: "registered-models/update", methods: []string{"PATCH"}, versions: v2, specs: []spec{tree(FieldDescription, "description")}},
	{name: "model-versions/update", methods: []string{"PATCH"}, versions: v2, specs: []spec{tree(FieldDescription, "description")}},
	{name: "registered-models/alias", methods: []string{"POST"}, versions: v2, specs: []spec{tree(FieldName, "alias")}},
	// StartTrace and EndTrace (v2): key/value lists.
	{name: "traces", methods: []string{"POST"}, versions: v2, specs: []spec{
		pair(FieldTag, 0, many("tags")), pair(FieldTag, 0, many("request_metadata"))}},
	{name: "traces/{id}", methods: []string{"PATCH"}, versions: v2, specs: []spec{
		pair(FieldTag, 0, many("tags")), pair(FieldTag, 0, many("request_metadata"))}},
	// StartTraceV3: string maps inside trace.trace_info.
	{name: "traces", methods: []string{"POST"}, versions: v3, specs: []spec{
		tree(FieldTag, "tags", one("trace"), one("trace_info")),
		tree(FieldTag, "trace_metadata", one("trace"), one("trace_info")),
		tree(FieldTag, "assessments", one("trace"), one("trace_info"))}},
	{name: "traces/{id}/assessments", methods: []string{"POST"}, versions: v3, specs: []spec{tree(FieldTag, "assessment")}},
	{name: "traces/{id}/assessments/{aid}", methods: []string{"PATCH"}, versions: v3, specs: []spec{tree(FieldTag, "assessment")}},
}

func init() { routes = append(routes, treeRoutes...) }

// treeDepth bounds the walk; the gateway's JSON reader bounds nesting too.
const treeDepth = 64

// appendTree adds one item per string under o[sp.value]. A map entry is
// judged as a key and value pair (a "password" key counts); list elements
// and plain strings by value. The items carry a derived spec of kind
// kPair or kValue, so checkSecret judges them as it judges tags.
func appendTree(out []item, sp *spec, o map[string]any) ([]item, error) {
	v, _, err := lookup(o, sp.value)
	if err != nil || v == nil {
		return out, err
	}
	pairSpec := &spec{kind: kPair, field: sp.field, key: "key", value: "value", keyMax: 1 << 30}
	valueSpec := &spec{kind: kValue, field: sp.field, value: sp.value}
	var walk func(key string, v any, depth int) error
	walk = func(key string, v any, depth int) error {
		if depth > treeDepth {
			return fmt.Errorf("%w: %s nested deeper than %d", ErrUnreadable, sp.value, treeDepth)
		}
		switch t := v.(type) {
		case string:
			if key != "" {
				out = append(out, item{spec: pairSpec, key: key, value: t, hasValue: true})
			} else {
				out = append(out, item{spec: valueSpec, value: t, hasValue: true})
			}
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys) // a stable first finding
			for _, k := range keys {
				if _, isStr := t[k].(string); !isStr {
					// the key alone: a token used as a map key
					out = append(out, item{spec: &spec{kind: kKey, field: sp.field, key: "key", keyMax: 1 << 30}, key: k})
				}
				if err := walk(k, t[k], depth+1); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range t {
				if err := walk("", e, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk("", v, 0)
}

// KV is one string found in a body the policies do not read themselves
// (OTLP trace export): an attribute key with its value, or a bare value
// when Key is empty.
type KV struct{ Key, Value string }

// CheckStrings judges strings as tag values are judged, in the configured
// secrets mode. Such a body cannot be rewritten, so redact mode denies.
func (e *Engine) CheckStrings(field Field, kvs []KV) Decision {
	pairSpec := &spec{kind: kPair, field: field, key: "key", value: "value", keyMax: 1 << 30}
	valueSpec := &spec{kind: kValue, field: field, value: "value"}
	var d Decision
	memo := detectMemo{}
	for _, kv := range kvs {
		it := item{spec: valueSpec, value: kv.Value, hasValue: true}
		if kv.Key != "" {
			it = item{spec: pairSpec, key: kv.Key, value: kv.Value, hasValue: true}
		}
		sub, _ := e.checkSecret(it, memo)
		d.Findings = append(d.Findings, sub.Findings...)
		if sub.Action == Deny {
			sub.Findings = d.Findings
			return sub
		}
	}
	return d
}
