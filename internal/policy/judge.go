package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// item is one checked value and the object it lives in (for a rewrite).
type item struct {
	spec     *spec
	obj      map[string]any
	key      string
	value    string
	hasValue bool
	valueKey string // the spelling present in obj
}

// collect walks a message and returns every value the specs name. An
// error means the body does not have the shape MLflow parses.
func collect(rt *route, m *message) ([]item, error) {
	var out []item
	for i := range rt.specs {
		sp := &rt.specs[i]
		if m.fromQuery {
			// Flask's args.get: the first value.
			if sp.value != "" && m.query.Has(sp.value) {
				out = append(out, item{spec: sp, value: m.query.Get(sp.value), hasValue: true})
			}
			continue
		}
		objs := []map[string]any{m.body}
		for _, st := range sp.at {
			var next []map[string]any
			for _, o := range objs {
				if st.many {
					l, err := list(o, st.name)
					if err != nil {
						return nil, err
					}
					if next == nil {
						next = l // the common single list: no copy
					} else {
						next = append(next, l...)
					}
				} else {
					c, err := object(o, st.name)
					if err != nil {
						return nil, err
					}
					if c != nil {
						next = append(next, c)
					}
				}
			}
			objs = next
		}
		out = slices.Grow(out, len(objs))
		for _, o := range objs {
			if sp.kind == kTree {
				var err error
				if out, err = appendTree(out, sp, o); err != nil {
					return nil, err
				}
				continue
			}
			it := item{spec: sp, obj: o}
			if sp.key != "" {
				k, _, _, err := str(o, sp.key)
				if err != nil {
					return nil, err
				}
				it.key = k
			}
			if sp.kind == kURLMap {
				v, _, err := lookup(o, sp.value)
				if err != nil {
					return nil, err
				}
				mp, _ := v.(map[string]any)
				if v != nil && mp == nil {
					return nil, fmt.Errorf("%w: field %q is not a map", ErrUnreadable, sp.value)
				}
				for mk, mv := range mp {
					s, ok := mv.(string)
					if !ok {
						return nil, fmt.Errorf("%w: %s.%s is not a string", ErrUnreadable, sp.value, mk)
					}
					out = append(out, item{spec: sp, key: mk, value: s, hasValue: true})
				}
				continue
			}
			if sp.value != "" {
				v, vk, ok, err := str(o, sp.value)
				if err != nil {
					return nil, err
				}
				it.value, it.valueKey, it.hasValue = v, vk, ok
			}
			out = append(out, it)
		}
	}
	return out, nil
}

// judge applies every check to the route's fields; the first denial wins,
// redactions are gathered into one rewrite.
func (e *Engine) judge(ctx context.Context, rt *route, m *message) Decision {
	items, err := collect(rt, m)
	if err != nil {
		return deny(RuleMalformed, "%s: %v", rt.name, err)
	}
	var d Decision
	rewrite := false
	var memo detectMemo
	for _, it := range items {
		var sub Decision
		switch it.spec.kind {
		case kPair, kValue, kKey, kTree:
			var red bool
			if memo == nil {
				memo = detectMemo{}
			}
			sub, red = e.checkSecret(it, memo)
			rewrite = rewrite || red
		case kRelPath:
			if it.hasValue {
				sub = checkRelPath(it.value, it.spec.field)
			}
		case kSource:
			if it.hasValue {
				sub = e.checkSource(ctx, it.value, isPromptVersion(m.body))
			}
		case kLocation:
			if it.hasValue && it.value != "" {
				sub = e.checkLocation(ctx, it.value)
			}
		case kURL, kURLMap:
			if it.hasValue && (it.spec.kind == kURL || strings.Contains(it.value, "://")) {
				sub = e.checkOutboundURL(ctx, it.value, it.spec.field)
			}
		case kGatewayPath:
			if it.hasValue {
				sub = checkGatewayPath(it.value)
			}
		}
		d.Findings = append(d.Findings, sub.Findings...)
		if sub.Action == Deny {
			sub.Findings = d.Findings
			return sub
		}
	}
	if rewrite {
		b, err := json.Marshal(m.body)
		if err != nil {
			return deny(RuleMalformed, "%s: re-encoding the redacted body: %v", rt.name, err)
		}
		d.Action, d.Body = Rewrite, b
	}
	return d
}

// isPromptVersion reports a model-versions/create body that carries the
// prompt tag: MLflow takes its prompt branch for it (CVE-2026-2614).
func isPromptVersion(body map[string]any) bool {
	tags, _ := list(body, "tags")
	for _, t := range tags {
		if k, _, _, _ := str(t, "key"); k == "mlflow.prompt.is_prompt" {
			return true
		}
	}
	return false
}
