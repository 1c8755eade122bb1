package gateway

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	modelscan "github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

//go:embed approvals_web/page.html approvals_web/style.css
var approvalsWeb embed.FS

var pageTmpl = template.Must(template.ParseFS(approvalsWeb, "approvals_web/page.html"))

// pageCSP is stricter than the MLflow UI's: the page has no script at all
// and only its own stylesheet.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const (
	csrfCookie  = "mlg_approvals_csrf"
	maxFormBody = 16 << 10
	maxDiffList = 200
)

type pageRow struct {
	A      *store.Approval
	Status string
}

type manifestDiff struct {
	Added, Removed, Changed []string
	Same                    int
}

type pageData struct {
	Title, User string
	Pending     []*store.Approval
	Recent      []pageRow
	A           *store.Approval
	Status      string
	TTL         string
	Baseline    string
	Diff        *manifestDiff
	DiffNote    string
	CanDecide   bool
	WhyNot      string
	CSRF        string
	Error, Done string
}

// servePage is the reviewers' page: the list, one request, and the
// decision form. No JavaScript; the form posts back here.
func (g *Gateway) servePage(w http.ResponseWriter, r *http.Request, st *reqState) *Denial {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-store")
	// With the gateway's default no-referrer policy a browser sends
	// "Origin: null" on a form post, and the Origin check needs the real
	// one; same-origin still sends nothing to other sites.
	h.Set("Referrer-Policy", "same-origin")
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, approvalsPage), "/")
	switch {
	case rest == "static/style.css" && r.Method == http.MethodGet:
		b, _ := approvalsWeb.ReadFile("approvals_web/style.css")
		h.Set("Content-Type", "text/css; charset=utf-8")
		h.Set("Cache-Control", "max-age=300")
		_, _ = w.Write(b)
		return nil
	case rest == "" && r.Method == http.MethodGet:
		return g.pageList(w, r, st)
	case rest != "" && !strings.Contains(rest, "/") && r.Method == http.MethodGet:
		return g.pageDetail(w, r, st, rest, "", "", http.StatusOK)
	case rest != "" && !strings.Contains(rest, "/") && r.Method == http.MethodPost:
		return g.pageDecide(w, r, st, rest)
	}
	return denyForbidden("unknown-route", fmt.Sprintf("%s %s is not a route mlflow-guard knows; denied", r.Method, r.URL.Path))
}

func statusOf(a *store.Approval, now time.Time) string {
	if a.Expired(now) {
		return "expired"
	}
	return a.Status
}

func (g *Gateway) pageList(w http.ResponseWriter, r *http.Request, st *reqState) *Denial {
	pending, d := g.visibleApprovals(r.Context(), st.identity, []string{store.ApprovalPending})
	if d != nil {
		return d
	}
	decided, d := g.visibleApprovals(r.Context(), st.identity, []string{store.ApprovalApproved, store.ApprovalRejected, store.ApprovalConsumed, store.ApprovalPromoting})
	if d != nil {
		return d
	}
	sort.SliceStable(decided, func(i, j int) bool { return decided[i].DecidedAt.After(decided[j].DecidedAt) })
	if len(decided) > 30 {
		decided = decided[:30]
	}
	now := g.now()
	data := pageData{Title: "Approvals", User: st.identity.User.Name, Pending: pending}
	for _, a := range decided {
		data.Recent = append(data.Recent, pageRow{A: a, Status: statusOf(a, now)})
	}
	g.csrfCookie(w, r)
	return renderPage(w, "list", data, http.StatusOK)
}

func renderPage(w http.ResponseWriter, name string, data pageData, status int) *Denial {
	var b strings.Builder
	if err := pageTmpl.ExecuteTemplate(&b, name, data); err != nil {
		return denyUnavailable("page-failed", "the approvals page could not be rendered")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
	return nil
}

func (g *Gateway) pageDetail(w http.ResponseWriter, r *http.Request, st *reqState, id, errMsg, done string, status int) *Denial {
	ctx := r.Context()
	a, d := g.readableApproval(ctx, st.identity, id)
	if d != nil {
		return d
	}
	me := st.identity.User.Name
	data := pageData{Title: "Approval " + a.ID, User: me, A: a, Status: statusOf(a, g.now()), TTL: a.TTL.String(), Error: errMsg, Done: done}
	switch {
	case a.Status != store.ApprovalPending:
		data.WhyNot = "This request is " + data.Status + "."
	case strings.EqualFold(a.Requester, me):
		data.WhyNot = "You asked for this change; a second person must approve it. You may withdraw it with mlflow-guard approvals reject."
	case g.decide(ctx, st.identity, []need{{kind: KindRegisteredModel, id: a.Model, perm: store.Manage}}) != nil:
		data.WhyNot = "Deciding needs MANAGE on this model."
	default:
		data.CanDecide = true
		data.CSRF = g.csrfToken(me, g.csrfCookie(w, r))
	}
	data.Baseline, data.Diff, data.DiffNote = g.changesSince(ctx, a)
	return renderPage(w, "detail", data, status)
}

// pageDecide takes the form: same-origin, a CSRF token bound to the
// caller and their cookie, and the caller's password again.
func (g *Gateway) pageDecide(w http.ResponseWriter, r *http.Request, st *reqState, id string) *Denial {
	scheme := "http://"
	if g.cfg.TLS {
		scheme = "https://"
	}
	if o := r.Header.Get("Origin"); o == "" || !strings.EqualFold(o, scheme+r.Host) {
		return denyForbidden("csrf", "the decision form must be posted from this gateway's own page (Origin missing or foreign)")
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
		return denyForbidden("csrf", "the decision form must be posted from this gateway's own page")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody+1))
	if err != nil || len(body) > maxFormBody {
		return denyBadRequest("form unreadable or too large")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return denyBadRequest("form: " + err.Error())
	}
	one := func(k string) string {
		if v := form[k]; len(v) == 1 {
			return v[0]
		}
		return ""
	}
	me := st.identity.User.Name
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" || !hmac.Equal([]byte(one("csrf")), []byte(g.csrfToken(me, c.Value))) {
		return denyForbidden("csrf", "the form's CSRF token is missing or not this session's; reload the page")
	}
	decision := one("decision")
	if decision != "approve" && decision != "reject" {
		return denyBadRequest("decision must be approve or reject")
	}
	now := g.now()
	if g.throttle.locked("user:"+me, now) || g.throttle.locked("ip:"+st.ip, now) {
		return &Denial{http.StatusTooManyRequests, "UNAUTHENTICATED", "MLG401", "login-locked", "too many failed logins; try again later"}
	}
	if _, err := g.store.CheckLogin(r.Context(), me, one("password")); err != nil {
		if !errors.Is(err, store.ErrBadCredentials) {
			return denyUnavailable("store-unavailable", "the gateway could not check the password; try again")
		}
		g.throttle.fail("user:"+me, now)
		g.throttle.fail("ip:"+st.ip, now)
		_ = g.store.Audit(r.Context(), store.Event{Actor: me, Action: "approvals.reauth", Route: "POST " + approvalsPage, Decision: "deny",
			Rule: "MLG105", RequestID: st.id, Detail: "re-authentication failed for approval " + truncate(id, 40)})
		return g.pageDetail(w, r, st, id, "The password did not match; nothing was decided.", "", http.StatusForbidden)
	}
	a, d := g.decideApproval(r.Context(), st, id, decision == "approve", one("reason"))
	if d != nil {
		if d.Status >= 500 {
			return d
		}
		return g.pageDetail(w, r, st, id, d.Msg, "", d.Status)
	}
	return g.pageDetail(w, r, st, a.ID, "", "Recorded: "+a.Status+".", http.StatusOK)
}

// csrfCookie returns the session's CSRF nonce, setting a new cookie when
// there is none.
func (g *Gateway) csrfCookie(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 64 {
		return c.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: approvalsPage, HttpOnly: true, Secure: g.cfg.TLS, SameSite: http.SameSiteStrictMode})
	return v
}

// csrfToken binds the form to the user and the cookie's nonce.
func (g *Gateway) csrfToken(user, nonce string) string {
	m := hmac.New(sha256.New, g.store.Key())
	m.Write([]byte("mlflow-guard approvals csrf\x00" + user + "\x00" + nonce))
	return hex.EncodeToString(m.Sum(nil))
}

// changesSince compares the request's manifest with the one of the
// version that now holds the target (the alias, or Production).
func (g *Gateway) changesSince(ctx context.Context, a *store.Approval) (string, *manifestDiff, string) {
	if a.Version == "" {
		return "the current state", nil, "This request changes the model as a whole; there are no files to compare."
	}
	t, err := parseTarget(a.Target)
	if err != nil {
		return "the current version", nil, err.Error()
	}
	rm, err := g.getModel(ctx, a.Model)
	if err != nil {
		return "the current version", nil, "Could not read the model from MLflow: " + err.Error()
	}
	base, label := "", ""
	if t.kind == TargetAlias || t.kind == TargetDeleteAlias {
		for _, al := range rm.Aliases {
			if al.Alias == t.arg {
				base, label = al.Version, fmt.Sprintf("version %s (now @%s)", al.Version, t.arg)
			}
		}
	}
	if base == "" {
		stage := "Production"
		if t.kind == TargetStage {
			stage = t.arg
		}
		for _, v := range rm.LatestVersions {
			if v.CurrentStage == stage {
				base, label = v.Version, fmt.Sprintf("version %s (now in %s)", v.Version, stage)
			}
		}
	}
	if base == "" {
		return "the current Production version", nil, "Nothing holds this target yet: every file is new."
	}
	if base == a.Version {
		return label, nil, "This version already holds the target."
	}
	cur, err1 := g.getVersion(ctx, a.Model, a.Version)
	old, err2 := g.getVersion(ctx, a.Model, base)
	if err := errors.Join(err1, err2); err != nil {
		return label, nil, "Could not read the versions from MLflow: " + err.Error()
	}
	cg, og := gateOf(cur), gateOf(old)
	nm, ok1 := parseManifestTag(cg.Manifest)
	om, ok2 := parseManifestTag(og.Manifest)
	if !ok1 || !ok2 {
		return label, nil, "One of the versions has no readable manifest recorded by the registration gate."
	}
	// The diff shows what the digest covers, or nothing.
	if modelscan.ManifestDigest(nm) != cg.Digest || modelscan.ManifestDigest(om) != og.Digest {
		return label, nil, "One of the versions has a recorded manifest that does not match its recorded digest."
	}
	d := &manifestDiff{}
	for p, s := range nm {
		switch o, ok := om[p]; {
		case !ok:
			d.Added = append(d.Added, p)
		case o != s:
			d.Changed = append(d.Changed, p)
		default:
			d.Same++
		}
	}
	for p := range om {
		if _, ok := nm[p]; !ok {
			d.Removed = append(d.Removed, p)
		}
	}
	for _, l := range []*[]string{&d.Added, &d.Removed, &d.Changed} {
		sort.Strings(*l)
		if len(*l) > maxDiffList {
			*l = append((*l)[:maxDiffList], fmt.Sprintf("… and %d more", len(*l)-maxDiffList))
		}
	}
	return label, d, ""
}

// parseManifestTag reads the `digest` manifest format ("<sha256>  <path>"
// lines, # comments) from a tag value.
func parseManifestTag(s string) (map[string]string, bool) {
	if strings.TrimSpace(s) == "" {
		return nil, false
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 || name == "" {
			return nil, false
		}
		if _, err := hex.DecodeString(sum); err != nil {
			return nil, false
		}
		out[strings.TrimPrefix(name, "*")] = strings.ToLower(sum)
	}
	return out, sc.Err() == nil
}
