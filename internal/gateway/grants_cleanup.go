package gateway

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// Grants on registered models (and prompts) are keyed by name, and MLflow
// deletes a model for good, so a grant outlived its model and applied to
// the next model created under the same name: bob created "prod-model"
// (MANAGE as its creator), deleted it, and held MANAGE on the real team's
// "prod-model" the day they created it. Once MLflow confirms a delete,
// every grant on that name is removed.

func isModelDelete(rt *compiled) bool {
	return rt != nil && rt.Method == http.MethodDelete &&
		(rt.Pattern == v2+"registered-models/delete" || rt.Pattern == "/ajax-api/2.0/mlflow/registered-models/delete")
}

// revokeDeleted runs after a successful upstream answer. A failure is an
// error for the client: the model is gone but a grant on its name may
// remain, which an admin must see.
func (g *Gateway) revokeDeleted(r *http.Request, st *reqState) error {
	if !isModelDelete(st.route) {
		return nil
	}
	ctx := r.Context()
	msg, err := ParseMessage(r.Method, r.URL.RawQuery, st.body)
	if err != nil {
		return fmt.Errorf("registered model delete: %w", err)
	}
	name, ok, err := msg.Value([]string{"name"})
	if err != nil || !ok || name == "" {
		return fmt.Errorf("registered model delete: no name (%v)", err)
	}
	grants, err := g.store.ListGrants(ctx, nil)
	if err != nil {
		return err
	}
	now := g.now()
	for _, gr := range grants {
		if gr.ResourceKind != string(KindRegisteredModel) || gr.ResourceID != name {
			continue
		}
		if err := g.store.RemoveGrant(ctx, st.identity.User.Name, gr.Principal, gr.ResourceKind, gr.ResourceID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if gr.Principal.Kind == "user" {
			g.perms.put(permKey(gr.Principal.Name, KindRegisteredModel, name), store.None, now)
		}
	}
	return nil
}
