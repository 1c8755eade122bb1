package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// promotion is a request that changes a protected target, checked against
// an approval that forwardPromotion claims, forwards and consumes.
type promotion struct {
	appr    *store.Approval
	model   string
	version string
	target  target
}

// apiPattern maps an /ajax-api twin onto its /api row.
func apiPattern(p string) string {
	if rest, ok := strings.CutPrefix(p, "/ajax-api/"); ok {
		return "/api/" + rest
	}
	return p
}

// guardRegistry runs on every write after authorization: it denies a
// client's write to the reserved tag namespace on any route, and holds a
// change to a protected alias or stage, or to a model that holds one,
// until an approval covers it.
func (g *Gateway) guardRegistry(ctx context.Context, r *http.Request, st *reqState, rt *compiled, vars map[string]string, msg *Message) *Denial {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	if k, ok := reservedKey(r, vars, msg); ok {
		return deny105("reserved-tag", fmt.Sprintf("%s %s: tag key %q is in the %q namespace, which only the gateway writes",
			r.Method, rt.Pattern, truncate(k, 120), approval.Namespace))
	}
	if msg == nil || msg.FromQuery {
		return nil
	}
	field := func(names ...string) (string, *Denial) {
		v, _, err := msg.Value(names)
		if err != nil {
			return "", denyForbidden("ambiguous-request", fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
		}
		return v, nil
	}
	name, d := field("name")
	if d != nil {
		return d
	}
	pat := apiPattern(rt.Pattern)
	switch {
	case pat == v2+"registered-models/alias" && r.Method == http.MethodPost:
		alias, d := field("alias")
		if d != nil {
			return d
		}
		version, d := field("version")
		if d != nil {
			return d
		}
		t := target{kind: TargetAlias, arg: alias}
		if alias == "" || !g.protectedTarget(t) {
			return nil
		}
		return g.requireApproval(ctx, st, name, version, t)
	case pat == v2+"registered-models/alias" && r.Method == http.MethodDelete:
		alias, d := field("alias")
		if d != nil {
			return d
		}
		t := target{kind: TargetDeleteAlias, arg: alias}
		if alias == "" || !g.protectedTarget(t) {
			return nil
		}
		return g.requireApproval(ctx, st, name, "", t)
	case pat == v2+"model-versions/transition-stage":
		version, d := field("version")
		if d != nil {
			return d
		}
		stage, d := field("stage")
		if d != nil {
			return d
		}
		t := target{kind: TargetStage, arg: canonicalStage(stage)}
		if stage == "" || !g.protectedTarget(t) {
			return nil
		}
		if t.arg == "Production" {
			// The seed's "archive existing": the version leaving
			// Production is archived, so only one serves.
			delete(msg.Body, "archiveExistingVersions")
			msg.Body["archive_existing_versions"] = true
			b, err := json.Marshal(msg.Body)
			if err != nil {
				return denyForbidden("ambiguous-request", err.Error())
			}
			st.body = b
		}
		return g.requireApproval(ctx, st, name, version, t)
	case pat == v2+"registered-models/rename":
		newName, d := field("new_name")
		if d != nil {
			return d
		}
		return g.requireIfHeld(ctx, st, name, "", target{kind: TargetRename, arg: newName})
	case pat == v2+"registered-models/delete":
		return g.requireIfHeld(ctx, st, name, "", target{kind: TargetDeleteModel})
	case pat == v2+"model-versions/delete":
		version, d := field("version")
		if d != nil {
			return d
		}
		return g.requireIfHeld(ctx, st, name, version, target{kind: TargetDeleteVersion})
	}
	return nil
}

// requireIfHeld asks for an approval when the model (or version) holds a
// protected alias or stage. A model MLflow does not know passes through:
// MLflow answers the 404 itself.
func (g *Gateway) requireIfHeld(ctx context.Context, st *reqState, name, version string, t target) *Denial {
	if name == "" {
		return nil
	}
	held, err := g.holdsProtected(ctx, name, version)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return deny105("lookup-failed", fmt.Sprintf("could not read what model %q holds: %v", name, err))
	}
	if len(held) == 0 {
		return nil
	}
	return g.requireApproval(ctx, st, name, version, t)
}

// canonicalVersion is how MLflow prints a version number. MLflow turns
// "01" or " 1" into version 1; approvals are keyed by the printed form, so
// any other spelling is refused rather than matched loosely.
func canonicalVersion(v string) bool {
	if len(v) == 0 || len(v) > 18 || v[0] == '0' {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// requireApproval finds a usable approval for exactly this change, or
// explains why there is none.
func (g *Gateway) requireApproval(ctx context.Context, st *reqState, name, version string, t target) *Denial {
	if t.versioned() && !canonicalVersion(version) {
		return denyForbidden("ambiguous-request", fmt.Sprintf("version %q of model %q is not written as MLflow writes version numbers", truncate(version, 40), name))
	}
	now := g.now()
	what := fmt.Sprintf("%s of model %q", t, name)
	if version != "" {
		what = fmt.Sprintf("%s of model %q version %s", t, name, version)
	}
	a, err := g.store.FindApproved(ctx, name, version, t.String(), now)
	if err != nil {
		g.log.Error("approval lookup failed", "request_id", st.id, "err", err)
		return denyUnavailable("store-unavailable", "the gateway could not read approvals; try again")
	}
	if a == nil {
		return deny105("no-approval", what+" needs an approval by someone other than the requester: "+g.whyNoApproval(ctx, name, version, t))
	}
	if t.promotion() {
		mv, err := g.getVersion(ctx, name, version)
		if err != nil {
			return deny105("lookup-failed", fmt.Sprintf("%s: could not re-read the version: %v", what, err))
		}
		gs := gateOf(mv)
		if err := checkGate(gs, name, version); err != nil {
			return deny105("gate-not-passed", what+": "+err.Error())
		}
		if gs.Digest != a.Digest {
			return deny105("digest-changed", fmt.Sprintf("%s: approval %s was given for digest %s, the version now records %s; request a new approval",
				what, a.ID, a.Digest, gs.Digest))
		}
		rec, err := approval.Decode(a.Record, g.cfg.Approvals.Keys.Trusted())
		if err != nil {
			return deny105("approval-invalid", fmt.Sprintf("%s: approval %s: %v", what, a.ID, err))
		}
		if rec.Model != name || rec.Version != version || rec.Target != t.String() || rec.Digest != a.Digest {
			return deny105("approval-invalid", fmt.Sprintf("%s: approval %s's signed record is for another change", what, a.ID))
		}
		if err := rec.Check(now); err != nil {
			return deny105("approval-invalid", fmt.Sprintf("%s: approval %s: %v", what, a.ID, err))
		}
	}
	st.promotion = &promotion{appr: a, model: name, version: version, target: t}
	return nil
}

func (g *Gateway) whyNoApproval(ctx context.Context, name, version string, t target) string {
	a, err := g.store.LatestApproval(ctx, name, version, t.String())
	if err != nil || a == nil {
		return "none was requested (mlflow-guard approvals request)"
	}
	switch a.Status {
	case store.ApprovalPending:
		return fmt.Sprintf("request %s by %s is still pending", a.ID, a.Requester)
	case store.ApprovalRejected:
		return fmt.Sprintf("request %s was rejected by %s", a.ID, a.Approver)
	case store.ApprovalConsumed:
		return fmt.Sprintf("approval %s was already used by a promotion at %s", a.ID, a.PromotedAt.Format(time.RFC3339))
	case store.ApprovalPromoting:
		return fmt.Sprintf("approval %s is being used by a promotion in flight", a.ID)
	case store.ApprovalApproved:
		return fmt.Sprintf("approval %s expired at %s", a.ID, a.ExpiresAt.Format(time.RFC3339))
	}
	return "no usable approval"
}

// forwardPromotion claims the approval, sends the request upstream itself
// and, when MLflow applied it, consumes the approval and writes the record,
// re-signed with PromotedAt, on the version. A failed promotion gives the
// approval back.
func (g *Gateway) forwardPromotion(w http.ResponseWriter, r *http.Request, st *reqState) *Denial {
	ctx := r.Context()
	p := st.promotion
	a := *p.appr
	if err := g.store.ClaimApproval(ctx, a.ID); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return deny105("approval-in-use", fmt.Sprintf("approval %s was just used by another promotion", a.ID))
		}
		return denyUnavailable("store-unavailable", "the gateway could not claim the approval; try again")
	}
	// The promotion is dated when the window was checked, not when MLflow
	// answered: a slow upstream must not make the signed record say it was
	// consumed after it expired, which pull and audit (Record.Check) refuse.
	claimedAt := g.now().UTC()
	if !claimedAt.Before(a.ExpiresAt) {
		_ = g.store.ReleaseApproval(context.WithoutCancel(ctx), a.ID)
		return deny105("approval-invalid", fmt.Sprintf("approval %s expired at %s", a.ID, a.ExpiresAt.Format(time.RFC3339)))
	}
	release := func() {
		if err := g.store.ReleaseApproval(context.WithoutCancel(ctx), a.ID); err != nil {
			g.log.Error("could not give back an approval after a failed promotion", "request_id", st.id, "approval", a.ID, "err", err)
		}
	}
	status, ctype, body, err := g.forwardRaw(ctx, r, st)
	if err != nil {
		release()
		g.log.Warn("upstream error on a promotion", "request_id", st.id, "err", err)
		return &Denial{http.StatusBadGateway, "TEMPORARILY_UNAVAILABLE", "MLG105", "upstream-unavailable", "mlflow-guard: upstream MLflow server unavailable; the approval was not used"}
	}
	if status != http.StatusOK {
		release()
		writeUpstream(w, status, ctype, body)
		return nil
	}
	ctx = context.WithoutCancel(ctx) // MLflow applied it: finish the bookkeeping whatever the client does
	a.PromotedBy = st.identity.User.Name
	a.PromotedAt = claimedAt.Truncate(time.Second)
	var tagErr error
	if p.target.promotion() {
		rec, err := approval.Decode(a.Record, g.cfg.Approvals.Keys.Trusted())
		if err == nil {
			rec.PromotedAt = a.PromotedAt
			a.Record, err = approval.Encode(rec, g.cfg.Approvals.Keys.Private)
		}
		if err == nil {
			err = g.setVersionTag(ctx, p.model, p.version, approval.TagApproval, a.Record)
		}
		tagErr = err
	}
	detail := "promoted_by=" + a.PromotedBy
	if tagErr != nil {
		detail += " record-write-failed"
	}
	if err := g.store.ConsumeApproval(ctx, &a, store.Event{Actor: a.PromotedBy, Action: "approvals.consume", Route: r.Method + " " + st.route.Pattern,
		Decision: "allow", Rule: "MLG105", RequestID: st.id, Detail: detail}); err != nil {
		g.log.Error("could not record the use of an approval", "request_id", st.id, "approval", a.ID, "err", err)
	}
	if tagErr != nil {
		g.log.Error("promotion applied but the approval record was not written", "request_id", st.id, "approval", a.ID, "err", tagErr)
		return &Denial{http.StatusBadGateway, "TEMPORARILY_UNAVAILABLE", "MLG105", "record-write-failed",
			"the promotion was applied but the signed approval record could not be written; pull and audit will refuse this version until it is approved and promoted again"}
	}
	writeUpstream(w, status, ctype, body)
	return nil
}

func writeUpstream(w http.ResponseWriter, status int, ctype string, body []byte) {
	if ctype != "" {
		w.Header().Set("Content-Type", ctype)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// forwardRaw sends exactly st.body to the upstream, with the headers the
// proxy would set.
func (g *Gateway) forwardRaw(ctx context.Context, r *http.Request, st *reqState) (int, string, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	u := g.cfg.Upstream.String() + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, bytes.NewReader(st.body))
	if err != nil {
		return 0, "", nil, err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("X-Forwarded-For", st.ip)
	req.Header.Set("X-Request-Id", st.id)
	resp, err := g.resolve.client.Transport.RoundTrip(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, "", nil, err
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b, nil
}
