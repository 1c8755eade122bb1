package gateway

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// planGraphQLRequest authorizes a /graphql request field by field: it
// resolves every id the document names (runs to their experiments) into
// needs checked like any route's, and keeps the answer filters for the
// response hook. Admins pass unchecked, as on every route.
func (g *Gateway) planGraphQLRequest(ctx context.Context, r *http.Request, st *reqState) *Denial {
	if st.identity.User.Admin {
		return nil
	}
	plan, err := planGraphQL(st.body)
	if err != nil {
		return denyForbidden("graphql-unauthorizable", fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
	}
	for _, n := range plan.needs {
		id := n.id
		if n.via == RunToExperiment {
			if id, err = g.resolve.experimentOfRun(ctx, n.id); err != nil {
				return denyForbidden("lookup-failed", fmt.Sprintf("%s %s: could not resolve run: %v", r.Method, r.URL.Path, err))
			}
		}
		st.extraNeeds = append(st.extraNeeds, need{kind: KindExperiment, id: id, perm: n.perm})
	}
	st.gqlFilters = plan.filters
	return nil
}

// filterGraphQL is the /graphql response hook.
func (g *Gateway) filterGraphQL(ctx context.Context, st *reqState, b []byte) ([]byte, error) {
	if st.identity.User.Admin || len(st.gqlFilters) == 0 {
		return b, nil
	}
	return filterGraphQLAnswer(b, st.gqlFilters, func(names []string) (map[string]bool, error) {
		perms, err := g.store.Permissions(ctx, st.identity.User, string(KindRegisteredModel), names)
		if err != nil {
			return nil, err
		}
		ok := make(map[string]bool, len(names))
		for _, n := range names {
			ok[n] = perms[n] >= store.Read
		}
		return ok, nil
	})
}
