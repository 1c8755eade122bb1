package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// Signed artifact links (MLG305): an authenticated user asks for a
// short-lived link to one artifact of the artifact proxy; the link works
// without credentials, for that path only, until it expires. It is
// authorized when issued and again, as its user, when used, so a revoked
// grant or a disabled user stops it at once.
const (
	signedURLRoute = "/mlflow-guard/signed-url"
	artifactPrefix = "/api/2.0/mlflow-artifacts/artifacts/"
	paramUser      = "mlg_user"
)

// signedKey derives the link key from the store's key, so every replica
// on one store signs and verifies alike, and the credential key is never
// used for two purposes.
func signedKey(storeKey []byte) []byte {
	m := hmac.New(sha256.New, storeKey)
	m.Write([]byte("mlflow-guard signed artifact links v1"))
	return m.Sum(nil)
}

func denySigned(msg string) *Denial {
	return &Denial{Status: http.StatusForbidden, Code: "PERMISSION_DENIED", Rule: "MLG305", Reason: "signed-url", Msg: msg}
}

// isSignedRequest: no credentials and a signature parameter.
func isSignedRequest(r *http.Request) bool {
	return r.Header.Get("Authorization") == "" && strings.Contains(r.URL.RawQuery, policy.ParamSignature)
}

// signedIdentity checks a signed link and returns its user. The link's
// parameters are removed before the request goes on.
func (g *Gateway) signedIdentity(ctx context.Context, r *http.Request) (*Identity, *Denial) {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !strings.HasPrefix(r.URL.Path, artifactPrefix) {
		return nil, denySigned("signed links are for artifact downloads only")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || len(q) != 3 || len(q[paramUser]) != 1 {
		return nil, denySigned("signed link invalid or expired")
	}
	user := q.Get(paramUser)
	if err := g.signer.Verify(user, r.URL.EscapedPath(), q); err != nil {
		return nil, denySigned("signed link invalid or expired")
	}
	u, err := g.store.LoadUser(ctx, user)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, denySigned("signed link invalid or expired")
	case err != nil:
		return nil, denyUnavailable("store-unavailable", "the gateway could not check the link's user; try again")
	case u.Disabled:
		return nil, denySigned("signed link invalid or expired")
	}
	r.URL.RawQuery = ""
	return &Identity{User: u, Method: "signed"}, nil
}

// issueSigned answers POST /mlflow-guard/signed-url {"path": "<artifact
// path under the artifact proxy>"} with a link, after authorizing a
// download of that path by the caller.
func (g *Gateway) issueSigned(w http.ResponseWriter, r *http.Request, st *reqState) *Denial {
	if r.Method != http.MethodPost {
		return denyForbidden("unknown-route", "POST "+signedURLRoute+` {"path": "..."}`)
	}
	body, d := g.readBody(r)
	if d != nil {
		return d
	}
	var req struct {
		Path string `json:"path"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Path == "" || dec.More() {
		return denyForbidden("ambiguous-request", `body must be {"path": "<experiment_id>/<run_id>/artifacts/<file>"}`)
	}
	segs := strings.Split(req.Path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	target, err := url.Parse(artifactPrefix + strings.Join(segs, "/"))
	if err != nil {
		return denyForbidden("ambiguous-request", "artifact path cannot be made a URL")
	}
	// Judge the link as the download it stands for: path hygiene, route,
	// permission, request policies.
	dl := r.Clone(r.Context())
	dl.Method, dl.URL, dl.Body, dl.ContentLength = http.MethodGet, target, http.NoBody, 0
	dl.Header = http.Header{}
	if d := checkRawPath(dl); d != nil {
		return d
	}
	rt, vars := g.router.Match(http.MethodGet, target.Path)
	if rt == nil || rt.Class != ClassArtifact {
		return denyForbidden("unknown-route", "not an artifact download path")
	}
	st.route = rt
	needs, d := g.extract(r.Context(), rt, vars, dl, &Message{Body: map[string]any{}}, st.identity.User.Admin)
	if d != nil {
		return d
	}
	if d := g.decide(r.Context(), st.identity, needs); d != nil {
		return d
	}
	if d := g.applyPolicy(r.Context(), dl, st, needs); d != nil {
		return d
	}
	user := st.identity.User.Name
	q := g.signer.Sign(user, target.EscapedPath())
	q.Set(paramUser, user)
	exp := q.Get(policy.ParamExpires)
	if err := g.store.Audit(r.Context(), store.Event{Actor: user, Action: "signed-url.issue", Route: "POST " + signedURLRoute,
		Resource: target.EscapedPath(), Decision: "allow", Rule: "MLG305", RequestID: st.id, Detail: "expires=" + exp + " ip=" + st.ip}); err != nil {
		g.log.Error("audit write failed", "request_id", st.id, "err", err)
		return denyUnavailable("audit-unavailable", "the gateway could not record this link; not issued")
	}
	st.decision = "allow"
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{"url": target.EscapedPath() + "?" + q.Encode(), "expires": exp})
	return nil
}

// newSigner builds the link signer for ttl (0: the maximum, one hour).
func newSigner(storeKey []byte, ttl time.Duration, now func() time.Time) (*policy.Signer, error) {
	if ttl == 0 {
		ttl = policy.MaxSignedTTL
	}
	s, err := policy.NewSigner(signedKey(storeKey), ttl, now)
	if err != nil {
		return nil, fmt.Errorf("signed links: %w", err)
	}
	return s, nil
}
