package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

var errHookDenied = errors.New("denied by a response hook")

// hookError carries a denial out of ModifyResponse to the error handler.
type hookError struct{ d *Denial }

func (e *hookError) Error() string { return e.d.Msg }

const maxHookBody = 64 << 20

// modifyResponse drops upstream security headers the gateway owns and
// runs the route's response hook. A hook that cannot do its job fails the
// response (the client gets an error, never unchecked data).
func (g *Gateway) modifyResponse(resp *http.Response) error {
	for _, h := range securityOwned {
		resp.Header.Del(h)
	}
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// The upstream's redirects name the upstream; keep them relative.
		resp.Header.Set("Location", stripUpstream(loc, g.cfg.Upstream.String()))
	}
	st := stateOf(resp.Request)
	if st != nil && resp.StatusCode == http.StatusOK {
		if err := g.revokeDeleted(resp.Request, st); err != nil { // grants_cleanup.go
			g.log.Error("grants of a deleted model not removed", "request_id", st.id, "err", err)
			return &hookError{denyUnavailable("grant-cleanup-failed", "the model was deleted but the gateway could not remove the grants on its name; tell an administrator")}
		}
	}
	if st != nil && st.gate != nil && resp.StatusCode == http.StatusOK {
		return g.finishRegistration(resp, st)
	}
	if st == nil || st.route == nil || st.route.Hook == NoHook || st.route.Hook == SetRunUser || resp.StatusCode != http.StatusOK {
		return nil
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return &hookError{denyUnavailable("response-unreadable", "upstream answer is encoded; cannot check it")}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxHookBody+1))
	resp.Body.Close()
	if err != nil || len(b) > maxHookBody {
		return &hookError{denyUnavailable("response-unreadable", "upstream answer unreadable or too large to check")}
	}
	out, d := g.runHook(resp.Request, st, b)
	if d != nil {
		return &hookError{d}
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return nil
}

func stripUpstream(loc, up string) string {
	if len(loc) >= len(up) && loc[:len(up)] == up {
		return loc[len(up):]
	}
	return loc
}

func (g *Gateway) runHook(r *http.Request, st *reqState, b []byte) ([]byte, *Denial) {
	ctx := r.Context()
	u := st.identity.User
	bad := func(what string, err error) *Denial {
		g.log.Error("response hook failed", "request_id", st.id, "hook", what, "err", err)
		return denyUnavailable("hook-failed", "the gateway could not check the upstream answer ("+what+")")
	}
	switch st.route.Hook {
	case GrantCreatorExperiment, GrantCreatorModel:
		var kind, id string
		if st.route.Hook == GrantCreatorExperiment {
			var v struct {
				ExperimentID string `json:"experiment_id"`
			}
			if err := json.Unmarshal(b, &v); err != nil || v.ExperimentID == "" {
				return nil, bad("creator grant", fmt.Errorf("no experiment_id in answer: %v", err))
			}
			kind, id = string(KindExperiment), v.ExperimentID
		} else {
			var v struct {
				RegisteredModel struct {
					Name string `json:"name"`
				} `json:"registered_model"`
			}
			if err := json.Unmarshal(b, &v); err != nil || v.RegisteredModel.Name == "" {
				return nil, bad("creator grant", fmt.Errorf("no registered_model.name in answer: %v", err))
			}
			kind, id = string(KindRegisteredModel), v.RegisteredModel.Name
		}
		ev := store.Event{Route: r.Method + " " + st.route.Pattern, RequestID: st.id}
		if err := g.store.AddGrant(ctx, u.Name, store.Grant{Principal: store.Principal{Kind: "user", Name: u.Name},
			ResourceKind: kind, ResourceID: id, Permission: store.Manage}, &ev); err != nil {
			return nil, bad("creator grant", err)
		}
		g.perms.put(permKey(u.Name, Kind(kind), id), store.Manage, g.now())
		return b, nil
	case CheckExperimentInResponse:
		var v struct {
			Experiment struct {
				ExperimentID string `json:"experiment_id"`
			} `json:"experiment"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Experiment.ExperimentID == "" {
			return nil, bad("experiment check", fmt.Errorf("no experiment in answer: %v", err))
		}
		if d := g.decide(ctx, st.identity, []need{{kind: KindExperiment, id: v.Experiment.ExperimentID, perm: store.Read}}); d != nil {
			return nil, d
		}
		return b, nil
	case FilterExperiments:
		return g.filterList(ctx, st, b, "experiments", KindExperiment, func(item map[string]json.RawMessage) string {
			return jsonString(item["experiment_id"])
		}, bad)
	case FilterRegisteredModels:
		return g.filterList(ctx, st, b, "registered_models", KindRegisteredModel, func(item map[string]json.RawMessage) string {
			return jsonString(item["name"])
		}, bad)
	case FilterGraphQL:
		out, err := g.filterGraphQL(ctx, st, b)
		if err != nil {
			return nil, bad("graphql filter", err)
		}
		return out, nil
	case FilterWebhooks:
		return g.filterList(ctx, st, b, "webhooks", KindWebhook, func(item map[string]json.RawMessage) string {
			return jsonString(item["webhook_id"])
		}, bad)
	case FilterEndpoints:
		return g.filterList(ctx, st, b, "endpoints", KindGatewayEndpoint, func(item map[string]json.RawMessage) string {
			return jsonString(item["endpoint_id"])
		}, bad)
	case GrantCreatorLoggedModel:
		var v struct {
			Model struct {
				Info struct {
					ModelID string `json:"model_id"`
				} `json:"info"`
			} `json:"model"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Model.Info.ModelID == "" {
			return nil, bad("creator grant", fmt.Errorf("no model.info.model_id in answer: %v", err))
		}
		if err := g.grantCreator(ctx, r, st, KindLoggedModel, v.Model.Info.ModelID); err != nil {
			return nil, bad("creator grant", err)
		}
		return b, nil
	case FilterModelVersions:
		return g.filterList(ctx, st, b, "model_versions", KindRegisteredModel, func(item map[string]json.RawMessage) string {
			return jsonString(item["name"])
		}, bad)
	}
	return nil, bad("unknown hook", errors.New("no such hook"))
}

func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// filterList keeps the items of a search answer the caller may read.
func (g *Gateway) filterList(ctx context.Context, st *reqState, b []byte, field string, kind Kind,
	idOf func(map[string]json.RawMessage) string, bad func(string, error) *Denial) ([]byte, *Denial) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, bad("search filter", err)
	}
	raw, ok := top[field]
	if !ok || st.identity.User.Admin {
		return b, nil // no results, or an admin sees everything
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, bad("search filter", err)
	}
	ids := make([]string, 0, len(items))
	for _, it := range items {
		ids = append(ids, idOf(it))
	}
	perms, err := g.store.Permissions(ctx, st.identity.User, string(kind), ids)
	if err != nil {
		return nil, bad("search filter", err)
	}
	kept := make([]map[string]json.RawMessage, 0, len(items))
	for i, it := range items {
		if ids[i] != "" && perms[ids[i]] >= store.Read {
			kept = append(kept, it)
		}
	}
	nb, err := json.Marshal(kept)
	if err != nil {
		return nil, bad("search filter", err)
	}
	top[field] = nb
	out, err := json.Marshal(top)
	if err != nil {
		return nil, bad("search filter", err)
	}
	return out, nil
}

// setRunUser rewrites a runs/create body so the run records the
// authenticated caller: user_id and the mlflow.user tag, replacing any
// the client sent.
func setRunUser(msg *Message, user string) ([]byte, error) {
	body := msg.Body
	if body == nil {
		return nil, errors.New("runs/create: no JSON body")
	}
	delete(body, "userId")
	body["user_id"] = user
	var tags []any
	if raw, ok := body["tags"]; ok {
		list, isList := raw.([]any)
		if !isList {
			return nil, errors.New("runs/create: tags is not a list")
		}
		for _, t := range list {
			m, isMap := t.(map[string]any)
			if !isMap {
				return nil, errors.New("runs/create: a tag is not an object")
			}
			if k, _ := m["key"].(string); k == "mlflow.user" {
				continue
			}
			tags = append(tags, m)
		}
	}
	tags = append(tags, map[string]any{"key": "mlflow.user", "value": user})
	body["tags"] = tags
	return json.Marshal(body)
}

// grantCreator gives the caller MANAGE on what they just created.
func (g *Gateway) grantCreator(ctx context.Context, r *http.Request, st *reqState, kind Kind, id string) error {
	u := st.identity.User
	ev := store.Event{Route: r.Method + " " + st.route.Pattern, RequestID: st.id}
	if err := g.store.AddGrant(ctx, u.Name, store.Grant{Principal: store.Principal{Kind: "user", Name: u.Name},
		ResourceKind: string(kind), ResourceID: id, Permission: store.Manage}, &ev); err != nil {
		return err
	}
	g.perms.put(permKey(u.Name, kind, id), store.Manage, g.now())
	return nil
}
