package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// Paths of the approvals API, page and public key.
const (
	approvalKeyPath   = "/.well-known/mlflow-guard/approval-key.pem"
	approvalsAPI      = "/mlflow-guard/api/approvals"
	approvalsPage     = "/mlflow-guard/approvals"
	maxApprovalBody   = 64 << 10
	maxListedApproval = 200
)

func isApprovalsPath(p string) bool {
	for _, pre := range []string{approvalsAPI, approvalsPage} {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}

// serveApprovalKey publishes the public keys, current first, without
// authentication: verifiers (audit, pull) need them before they hold any
// credential, and a public key is no secret.
func (g *Gateway) serveApprovalKey(w http.ResponseWriter, r *http.Request) *Denial {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return denyForbidden("unknown-route", r.Method+" "+r.URL.Path+" is not a route mlflow-guard knows; denied")
	}
	b, err := g.cfg.Approvals.Keys.PublicPEM()
	if err != nil {
		return denyUnavailable("key-unavailable", "the gateway could not encode its public key")
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Mlflow-Guard-Key-Fingerprint", approval.Fingerprint(g.cfg.Approvals.Keys.Public()))
	if r.Method == http.MethodGet {
		_, _ = w.Write(b)
	}
	return nil
}

func denyBadRequest(msg string) *Denial {
	return &Denial{http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "MLG105", "bad-request", msg}
}
func denyNotFound(msg string) *Denial {
	return &Denial{http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST", "MLG105", "not-found", msg}
}
func denyConflict(msg string) *Denial {
	return &Denial{http.StatusConflict, "INVALID_STATE", "MLG105", "conflict", msg}
}

// serveApprovals routes the JSON API and the page.
func (g *Gateway) serveApprovals(w http.ResponseWriter, r *http.Request, st *reqState) *Denial {
	if strings.HasPrefix(r.URL.Path, approvalsPage) {
		return g.servePage(w, r, st)
	}
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, approvalsAPI), "/")
	parts := strings.Split(rest, "/")
	switch {
	case rest == "" && r.Method == http.MethodGet:
		statuses, d := statusFilter(r.URL.Query().Get("status"))
		if d != nil {
			return d
		}
		list, d := g.visibleApprovals(r.Context(), st.identity, statuses)
		if d != nil {
			return d
		}
		if list == nil {
			list = []*store.Approval{}
		}
		writeJSON(w, map[string]any{"approvals": list})
		return nil
	case rest == "" && r.Method == http.MethodPost:
		var in struct {
			Name       string `json:"name"`
			Version    string `json:"version"`
			Target     string `json:"target"`
			TTLSeconds int64  `json:"ttl_seconds"`
		}
		if d := readJSONBody(r, &in); d != nil {
			return d
		}
		a, d := g.requestApproval(r.Context(), st, in.Name, in.Version, in.Target, time.Duration(in.TTLSeconds)*time.Second)
		if d != nil {
			return d
		}
		writeJSON(w, map[string]any{"approval": a})
		return nil
	case len(parts) == 1 && r.Method == http.MethodGet:
		a, d := g.readableApproval(r.Context(), st.identity, parts[0])
		if d != nil {
			return d
		}
		writeJSON(w, map[string]any{"approval": a})
		return nil
	case len(parts) == 2 && r.Method == http.MethodPost && (parts[1] == "approve" || parts[1] == "reject"):
		var in struct {
			Reason string `json:"reason"`
		}
		if d := readJSONBody(r, &in); d != nil {
			return d
		}
		a, d := g.decideApproval(r.Context(), st, parts[0], parts[1] == "approve", in.Reason)
		if d != nil {
			return d
		}
		writeJSON(w, map[string]any{"approval": a})
		return nil
	}
	return denyForbidden("unknown-route", fmt.Sprintf("%s %s is not a route mlflow-guard knows; denied", r.Method, r.URL.Path))
}

func statusFilter(s string) ([]string, *Denial) {
	switch s {
	case "":
		return []string{store.ApprovalPending, store.ApprovalApproved}, nil
	case "all":
		return nil, nil
	case store.ApprovalPending, store.ApprovalApproved, store.ApprovalRejected, store.ApprovalConsumed, store.ApprovalPromoting:
		return []string{s}, nil
	}
	return nil, denyBadRequest(fmt.Sprintf("status %q: want pending, approved, rejected, consumed or all", s))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// readJSONBody reads a small JSON object. application/json is required:
// a browser cannot send it cross-site without a preflight, which the
// gateway's CORS check refuses.
func readJSONBody(r *http.Request, out any) *Denial {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return denyBadRequest("the approvals API takes Content-Type: application/json")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxApprovalBody+1))
	if err != nil || len(b) > maxApprovalBody {
		return denyBadRequest("request body unreadable or over 64 KiB")
	}
	if strings.TrimSpace(string(b)) == "" {
		b = []byte("{}")
	}
	if _, err := strictJSON(b); err != nil {
		return denyBadRequest(err.Error())
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return denyBadRequest("request body: " + err.Error())
	}
	return nil
}

// visibleApprovals lists requests on models the caller may read.
func (g *Gateway) visibleApprovals(ctx context.Context, id *Identity, statuses []string) ([]*store.Approval, *Denial) {
	list, err := g.store.ListApprovals(ctx, statuses, maxListedApproval)
	if err != nil {
		g.log.Error("list approvals", "err", err)
		return nil, denyUnavailable("store-unavailable", "the gateway could not read approvals; try again")
	}
	if id.User.Admin || len(list) == 0 {
		return list, nil
	}
	names := make([]string, 0, len(list))
	for _, a := range list {
		names = append(names, a.Model)
	}
	perms, err := g.store.Permissions(ctx, id.User, string(KindRegisteredModel), names)
	if err != nil {
		return nil, denyUnavailable("store-unavailable", "the gateway could not read permissions; try again")
	}
	var out []*store.Approval
	for _, a := range list {
		if perms[a.Model] >= store.Read {
			out = append(out, a)
		}
	}
	return out, nil
}

func (g *Gateway) readableApproval(ctx context.Context, id *Identity, aid string) (*store.Approval, *Denial) {
	a, err := g.store.GetApproval(ctx, aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, denyNotFound(fmt.Sprintf("approval %q does not exist", truncate(aid, 40)))
	}
	if err != nil {
		return nil, denyUnavailable("store-unavailable", "the gateway could not read approvals; try again")
	}
	if d := g.decide(ctx, id, []need{{kind: KindRegisteredModel, id: a.Model, perm: store.Read}}); d != nil {
		// Same answer as a missing one: no probing for other teams' models.
		return nil, denyNotFound(fmt.Sprintf("approval %q does not exist", truncate(aid, 40)))
	}
	return a, nil
}

// requestApproval opens a request. The caller needs EDIT on the model
// (what setting an alias needs); a promotion target needs a version the
// registration gate passed, and the request records its digest.
func (g *Gateway) requestApproval(ctx context.Context, st *reqState, name, version, targetStr string, ttl time.Duration) (*store.Approval, *Denial) {
	t, err := parseTarget(targetStr)
	if err != nil {
		return nil, denyBadRequest(err.Error())
	}
	switch {
	case name == "":
		return nil, denyBadRequest("name (the registered model) is required")
	case t.versioned() && !canonicalVersion(version):
		return nil, denyBadRequest(fmt.Sprintf("target %s needs a version number (1, 2, ...), got %q", t, truncate(version, 40)))
	case !t.versioned() && version != "":
		return nil, denyBadRequest(fmt.Sprintf("target %s is for the whole model; give no version", t))
	case ttl < 0 || ttl > g.cfg.Approvals.TTL:
		return nil, denyBadRequest(fmt.Sprintf("ttl_seconds must be between 1 and %d", int64(g.cfg.Approvals.TTL/time.Second)))
	case !g.protectedTarget(t):
		return nil, denyBadRequest(fmt.Sprintf("%s is not protected here; it needs no approval", t))
	}
	if ttl == 0 {
		ttl = g.cfg.Approvals.TTL
	}
	if d := g.decide(ctx, st.identity, []need{{kind: KindRegisteredModel, id: name, perm: store.Edit}}); d != nil {
		return nil, d
	}
	a := &store.Approval{Model: name, Version: version, Target: t.String(), Requester: st.identity.User.Name, TTL: ttl}
	if t.versioned() {
		mv, err := g.getVersion(ctx, name, version)
		if isNotFound(err) {
			return nil, denyNotFound(fmt.Sprintf("model %q has no version %s", name, version))
		}
		if err != nil {
			return nil, deny105("lookup-failed", fmt.Sprintf("could not read model %q version %s: %v", name, version, err))
		}
		gs := gateOf(mv)
		a.Digest, a.Verdict, a.Findings = gs.Digest, gs.Verdict, truncate(gs.Findings, 2000)
		if t.promotion() {
			if err := checkGate(gs, name, version); err != nil {
				return nil, deny105("gate-not-passed", "cannot request an approval: "+err.Error())
			}
		}
	} else if _, err := g.getModel(ctx, name); err != nil {
		if isNotFound(err) {
			return nil, denyNotFound(fmt.Sprintf("model %q does not exist", name))
		}
		return nil, deny105("lookup-failed", fmt.Sprintf("could not read model %q: %v", name, err))
	}
	if err := g.store.CreateApproval(ctx, a, store.Event{Actor: a.Requester, Action: "approvals.request", Route: "POST " + approvalsAPI,
		Decision: "allow", Rule: "MLG105", RequestID: st.id}); err != nil {
		g.log.Error("create approval", "request_id", st.id, "err", err)
		return nil, denyUnavailable("store-unavailable", "the gateway could not record the request; try again")
	}
	return a, nil
}

// decideApproval approves or rejects a pending request. Approving needs
// MANAGE on the model and a person other than the requester (admins are
// no exception); for a promotion the version must still carry the digest
// and the clean verdict the request recorded. The requester may withdraw
// (reject) their own request.
func (g *Gateway) decideApproval(ctx context.Context, st *reqState, aid string, approve bool, reason string) (*store.Approval, *Denial) {
	a, d := g.readableApproval(ctx, st.identity, aid)
	if d != nil {
		return nil, d
	}
	me := st.identity.User.Name
	self := strings.EqualFold(a.Requester, me)
	if approve && self {
		return nil, deny105("self-approval", fmt.Sprintf("approval %s was requested by %s; a second person must approve it (admins included)", a.ID, a.Requester))
	}
	if !(self && !approve) {
		if d := g.decide(ctx, st.identity, []need{{kind: KindRegisteredModel, id: a.Model, perm: store.Manage}}); d != nil {
			return nil, d
		}
	}
	if a.Status != store.ApprovalPending {
		return nil, denyConflict(fmt.Sprintf("approval %s is %s, not pending", a.ID, a.Status))
	}
	now := g.now().UTC().Truncate(time.Second)
	a.Approver, a.DecidedAt, a.Reason = me, now, truncate(reason, 500)
	action := "approvals.reject"
	a.Status = store.ApprovalRejected
	if approve {
		action = "approvals.approve"
		a.Status = store.ApprovalApproved
		a.ExpiresAt = now.Add(a.TTL)
		t, err := parseTarget(a.Target)
		if err != nil {
			return nil, denyConflict(err.Error())
		}
		if t.promotion() {
			mv, err := g.getVersion(ctx, a.Model, a.Version)
			if err != nil {
				return nil, deny105("lookup-failed", fmt.Sprintf("could not re-read model %q version %s: %v", a.Model, a.Version, err))
			}
			gs := gateOf(mv)
			if err := checkGate(gs, a.Model, a.Version); err != nil {
				return nil, deny105("gate-not-passed", "cannot approve: "+err.Error())
			}
			if gs.Digest != a.Digest {
				return nil, deny105("digest-changed", fmt.Sprintf("cannot approve %s: it was requested for digest %s, the version now records %s; ask for a new request", a.ID, a.Digest, gs.Digest))
			}
			rec := approval.Record{V: 1, Model: a.Model, Version: a.Version, Digest: a.Digest, Verdict: gs.Verdict, Target: a.Target,
				Requester: a.Requester, Approver: me, RequestedAt: a.RequestedAt, ApprovedAt: now, ExpiresAt: a.ExpiresAt}
			if err := rec.Check(now); err != nil {
				return nil, deny105("approval-invalid", err.Error())
			}
			if a.Record, err = approval.Encode(rec, g.cfg.Approvals.Keys.Private); err != nil {
				return nil, denyUnavailable("sign-failed", "the gateway could not sign the approval")
			}
		}
	}
	err := g.store.DecideApproval(ctx, a, store.Event{Actor: me, Action: action, Route: "POST " + approvalsAPI,
		Decision: "allow", Rule: "MLG105", RequestID: st.id, Detail: "requester=" + a.Requester})
	if errors.Is(err, store.ErrConflict) {
		return nil, denyConflict(fmt.Sprintf("approval %s was decided by someone else meanwhile", a.ID))
	}
	if err != nil {
		g.log.Error("decide approval", "request_id", st.id, "err", err)
		return nil, denyUnavailable("store-unavailable", "the gateway could not record the decision; try again")
	}
	return a, nil
}
