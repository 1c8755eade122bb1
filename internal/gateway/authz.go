package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// need is one resolved permission requirement: kind, id, level.
type need struct {
	kind Kind
	id   string
	perm store.Permission
	// alt: the permission may be held on any of these instead (a grant on
	// the trace or logged model itself, besides its experiment).
	alt []need
}

// extract finds the resource ids a request names, with no store or
// permission logic: parsing is kept apart from the decision so policy
// hooks can reuse it. Run and logged-model ids are resolved to their
// experiment here (an upstream lookup).
//
// A dataset linked to no experiment is reachable by admins only: for them
// it needs no grant (admin is the caller's flag); for anyone else it is
// denied.
func (g *Gateway) extract(ctx context.Context, rt *compiled, vars map[string]string, r *http.Request, msg *Message, admin bool) ([]need, *Denial) {
	var out []need
	for _, c := range rt.Checks {
		vals, d := g.checkValues(c, vars, r, msg)
		if d != nil {
			return nil, d
		}
		for _, f := range c.Forbid {
			if msg != nil {
				if v, err := msg.Values(f, false); err != nil || len(v) > 0 {
					return nil, denyForbidden("ambiguous-request", fmt.Sprintf("%s %s: %s may not be given here (the gateway authorizes by %s)", r.Method, r.URL.Path, f, c.Fields[0]))
				}
				if raw, err := msg.field(msg.Body, f); err != nil || raw != nil {
					return nil, denyForbidden("ambiguous-request", fmt.Sprintf("%s %s: %s may not be given here", r.Method, r.URL.Path, f))
				}
			}
		}
		if len(vals) == 0 {
			if c.Optional {
				continue
			}
			if !c.Repeated || c.NonEmpty {
				return nil, denyForbidden("missing-resource-id", fmt.Sprintf("%s %s: request names no %s", r.Method, r.URL.Path, strings.Join(c.Fields, " or ")))
			}
		}
		for _, v := range vals {
			id := v
			if id == "" {
				return nil, denyForbidden("missing-resource-id", fmt.Sprintf("%s %s: empty %s", r.Method, r.URL.Path, c.Fields[0]))
			}
			if c.Via == DatasetToExperiments {
				exps, err := g.resolve.experimentsOfDataset(ctx, v)
				if admin && errors.Is(err, errNoExperiment) {
					continue
				}
				if err != nil {
					return nil, denyForbidden("lookup-failed", fmt.Sprintf("%s %s: could not resolve %s: %v", r.Method, r.URL.Path, c.Fields[0], err))
				}
				out = append(out, datasetNeeds(exps, c.Perm)...)
				continue
			}
			var err error
			switch c.Via {
			case RunToExperiment:
				id, err = g.resolve.experimentOfRun(ctx, v)
			case LoggedModelToExp:
				id, err = g.resolve.experimentOfLoggedModel(ctx, v)
			case TraceToExperiment:
				id, err = g.resolve.experimentOfTrace(ctx, v)
			case EndpointNameToID:
				id, err = g.resolve.endpointOfName(ctx, v)
			case PromptJobToExperiment:
				id, err = g.resolve.experimentOfPromptJob(ctx, v)
			case LookupToExperiment:
				id, err = g.resolve.experimentOfLookup(ctx, c.Lookup, v)
			}
			if err != nil {
				return nil, denyForbidden("lookup-failed", fmt.Sprintf("%s %s: could not resolve %s: %v", r.Method, r.URL.Path, c.Fields[0], err))
			}
			n := need{kind: c.Kind, id: id, perm: c.Perm}
			switch c.Via {
			case LoggedModelToExp:
				n.alt = []need{{kind: KindLoggedModel, id: v}}
			case TraceToExperiment:
				n.alt = []need{{kind: KindTrace, id: v}}
			}
			out = append(out, n)
		}
	}
	return out, nil
}

func (g *Gateway) checkValues(c Check, vars map[string]string, r *http.Request, msg *Message) ([]string, *Denial) {
	amb := func(err error) *Denial {
		return denyForbidden("ambiguous-request", fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
	}
	if c.Extract != nil {
		if msg == nil {
			return nil, amb(errors.New("no message"))
		}
		v, err := c.Extract(msg)
		if err != nil {
			return nil, amb(err)
		}
		return v, nil
	}
	switch c.Source {
	case FromMessage:
		if msg == nil {
			return nil, amb(errors.New("no message"))
		}
		if c.Repeated {
			v, err := msg.Values(c.Fields[0], true)
			if err != nil {
				return nil, amb(err)
			}
			return v, nil
		}
		v, ok, err := msg.Value(c.Fields)
		if err != nil {
			return nil, amb(err)
		}
		if !ok {
			return nil, nil
		}
		return []string{v}, nil
	case FromPathVar:
		if v, ok := vars[c.Fields[0]]; ok {
			return []string{v}, nil
		}
		return nil, nil
	case FromArtifactPath:
		p, ok := vars[c.Fields[0]]
		if !ok {
			if msg == nil {
				return nil, amb(errors.New("no message"))
			}
			v, found, err := msg.Value(c.Fields)
			if err != nil {
				return nil, amb(err)
			}
			if !found {
				return nil, nil
			}
			p = v
		}
		exp, err := experimentOfArtifactPath(p)
		if err != nil {
			return nil, denyForbidden("artifact-path", fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
		}
		return []string{exp}, nil
	case FromHeader:
		v := r.Header.Values(c.Fields[0])
		if len(v) > 1 {
			return nil, amb(fmt.Errorf("header %s given %d times", c.Fields[0], len(v)))
		}
		return v, nil
	}
	return nil, amb(errors.New("unknown id source"))
}

// experimentOfArtifactPath reads "<experiment_id>/..." from an artifact
// proxy path. Dot segments, empty segments and backslashes are refused:
// the gateway checks one experiment and the path must not reach another.
func experimentOfArtifactPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("artifact path is empty (listing the root needs an admin)")
	}
	if strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("artifact path %q is not a relative slash path", p)
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s == "." || s == ".." || (s == "" && i != len(segs)-1) {
			return "", fmt.Errorf("artifact path %q has a dot or empty segment", p)
		}
	}
	for _, ch := range segs[0] {
		if ch < '0' || ch > '9' {
			return "", fmt.Errorf("artifact path %q does not start with an experiment id", p)
		}
	}
	if segs[0] == "" || len(segs[0]) > 19 {
		return "", fmt.Errorf("artifact path %q does not start with an experiment id", p)
	}
	return segs[0], nil
}

// decide checks the needs against the caller's grants.
func (g *Gateway) decide(ctx context.Context, id *Identity, needs []need) *Denial {
	if id.User.Admin {
		return nil
	}
	now := g.now()
	byKind := map[Kind][]string{}
	have := map[Kind]map[string]store.Permission{}
	var all []need
	for _, n := range needs {
		all = append(all, n)
		all = append(all, n.alt...)
	}
	for _, n := range all {
		if have[n.kind] == nil {
			have[n.kind] = map[string]store.Permission{}
		}
		if p, hit := g.perms.get(permKey(id.User.Name, n.kind, n.id), now); hit {
			have[n.kind][n.id] = p
			continue
		}
		byKind[n.kind] = append(byKind[n.kind], n.id)
	}
	for k, ids := range byKind {
		p, err := g.store.Permissions(ctx, id.User, string(k), ids)
		if err != nil {
			g.log.Error("permission lookup failed", "err", err)
			return denyUnavailable("store-unavailable", "the gateway could not read permissions; try again")
		}
		for _, i := range ids {
			have[k][i] = p[i]
			g.perms.put(permKey(id.User.Name, k, i), p[i], now)
		}
	}
	for _, n := range needs {
		got := have[n.kind][n.id]
		for _, a := range n.alt {
			got = max(got, have[a.kind][a.id])
		}
		if got < n.perm {
			return denyForbidden("no-permission", fmt.Sprintf("user %q needs %s on %s %s (has %s)", id.User.Name, n.perm, n.kind, n.id, got))
		}
	}
	return nil
}

func permKey(user string, k Kind, id string) string { return user + "\x00" + string(k) + "\x00" + id }

// datasetNeeds: READ on a dataset is READ on any experiment it is linked
// to; a higher permission is needed on every one of them.
func datasetNeeds(exps []string, p store.Permission) []need {
	if p == store.Read {
		n := need{kind: KindExperiment, id: exps[0], perm: p}
		for _, e := range exps[1:] {
			n.alt = append(n.alt, need{kind: KindExperiment, id: e})
		}
		return []need{n}
	}
	out := make([]need, 0, len(exps))
	for _, e := range exps {
		out = append(out, need{kind: KindExperiment, id: e, perm: p})
	}
	return out
}
