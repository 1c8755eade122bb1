package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// OpenID Connect Back-Channel Logout 1.0: the provider POSTs a signed
// logout token to this path, server to server, when a user logs out there
// (or an administrator ends the user's sessions). No gateway credentials
// or CSRF checks apply: the token's signature is the authentication.
const (
	backchannelPath  = oidcPrefix + "backchannel-logout"
	backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"
	maxLogoutForm    = 64 << 10
	maxLogoutToken   = 16 << 10
	maxLogoutClaim   = 255 // sub, sid and jti
	// logoutSkew is how far in the future an iat may be (clocks differ),
	// and how long past its last acceptable moment a jti is kept.
	logoutSkew = time.Minute
)

var (
	errLogoutForm   = errors.New("malformed back-channel logout request")
	errLogoutClaims = errors.New("not a valid logout token")
)

// parseLogoutForm reads the logout token from the request body: an
// application/x-www-form-urlencoded body with exactly one logout_token
// that looks like a compact JWS. Anything else is refused before any
// signature work is spent on it.
func parseLogoutForm(contentType string, body []byte) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return "", fmt.Errorf("%w: Content-Type must be application/x-www-form-urlencoded", errLogoutForm)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return "", fmt.Errorf("%w: charset %q", errLogoutForm, truncate(cs, 32))
	}
	if len(body) > maxLogoutForm {
		return "", fmt.Errorf("%w: body over %d bytes", errLogoutForm, maxLogoutForm)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", fmt.Errorf("%w: body is not a form", errLogoutForm)
	}
	vs := form["logout_token"]
	if len(vs) != 1 {
		return "", fmt.Errorf("%w: want exactly one logout_token, got %d", errLogoutForm, len(vs))
	}
	tok := vs[0]
	if tok == "" || len(tok) > maxLogoutToken {
		return "", fmt.Errorf("%w: logout_token empty or over %d bytes", errLogoutForm, maxLogoutToken)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("%w: logout_token is not a signed JWT (three dot-separated parts)", errLogoutForm)
	}
	for _, p := range parts {
		if p == "" || strings.IndexFunc(p, notBase64URL) >= 0 {
			return "", fmt.Errorf("%w: logout_token is not a signed JWT (base64url parts)", errLogoutForm)
		}
	}
	return tok, nil
}

func notBase64URL(c rune) bool {
	return !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')
}

// logoutClaims are the parts of a verified logout token the logout uses.
type logoutClaims struct {
	Sub, Sid, Jti string
	// RetainUntil is when the token stops being acceptable (exp, or iat
	// plus the maximum age, whichever is first) plus the skew: its jti
	// must be remembered until then, and no longer.
	RetainUntil time.Time
}

// checkLogoutClaims checks what Back-Channel Logout 1.0 (section 2.6)
// asks beyond the signature, issuer, audience and exp that go-oidc has
// verified: iat present and recent, the logout event, sub and/or sid, a
// jti, and no nonce (so an ID token can never pass as a logout token).
func checkLogoutClaims(payload []byte, now time.Time, maxAge time.Duration) (*logoutClaims, error) {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(payload, &c); err != nil || c == nil {
		return nil, fmt.Errorf("%w: claims are not a JSON object", errLogoutClaims)
	}
	if _, has := c["nonce"]; has {
		return nil, fmt.Errorf("%w: it carries a nonce", errLogoutClaims)
	}
	var events map[string]json.RawMessage
	if err := json.Unmarshal(c["events"], &events); err != nil || events == nil {
		return nil, fmt.Errorf("%w: no events object", errLogoutClaims)
	}
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(events[backchannelEvent], &ev); err != nil || ev == nil {
		return nil, fmt.Errorf("%w: events lacks %s as an object", errLogoutClaims, backchannelEvent)
	}
	iat, ok := numericDate(c["iat"])
	if !ok {
		return nil, fmt.Errorf("%w: no numeric iat", errLogoutClaims)
	}
	if iat.After(now.Add(logoutSkew)) {
		return nil, fmt.Errorf("%w: iat is in the future", errLogoutClaims)
	}
	if now.Sub(iat) > maxAge {
		return nil, fmt.Errorf("%w: issued %s ago, more than the %s accepted", errLogoutClaims, now.Sub(iat).Round(time.Second), maxAge)
	}
	exp, ok := numericDate(c["exp"])
	if !ok {
		return nil, fmt.Errorf("%w: no numeric exp", errLogoutClaims)
	}
	out := &logoutClaims{}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"sub", &out.Sub}, {"sid", &out.Sid}, {"jti", &out.Jti}} {
		raw, has := c[f.name]
		if !has {
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil || *f.dst == "" || len(*f.dst) > maxLogoutClaim {
			return nil, fmt.Errorf("%w: %s must be a non-empty string of at most %d bytes", errLogoutClaims, f.name, maxLogoutClaim)
		}
	}
	if out.Jti == "" {
		return nil, fmt.Errorf("%w: no jti", errLogoutClaims)
	}
	if out.Sub == "" && out.Sid == "" {
		return nil, fmt.Errorf("%w: neither sub nor sid", errLogoutClaims)
	}
	last := iat.Add(maxAge)
	if exp.Before(last) {
		last = exp
	}
	out.RetainUntil = last.Add(logoutSkew)
	return out, nil
}

// numericDate reads a JWT NumericDate (seconds, possibly fractional).
func numericDate(raw json.RawMessage) (time.Time, bool) {
	var f float64
	if raw == nil || json.Unmarshal(raw, &f) != nil || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// oidcBackchannelLogout serves the provider's logout token. Success is
// 200 with no body; any failure is 400 with an OAuth-style JSON error
// (the spec's answer), an audit row, and no session touched.
func (g *Gateway) oidcBackchannelLogout(w http.ResponseWriter, r *http.Request, st *reqState) {
	w.Header().Set("Cache-Control", "no-store")
	route := r.Method + " " + backchannelPath
	fail := func(status int, code, reason, msg string) {
		st.decision, st.rule = "deny", "MLG401"
		if err := g.store.Audit(r.Context(), store.Event{Action: "deny", Route: route, Decision: "deny", Rule: "MLG401", RequestID: st.id,
			Detail: "oidc-backchannel-" + reason + ": " + truncate(msg, 300) + " ip=" + st.ip}); err != nil {
			g.log.Error("audit write failed for a denial", "request_id", st.id, "err", err)
		}
		g.log.Warn("back-channel logout refused", "request_id", st.id, "ip", st.ip, "reason", reason, "msg", truncate(msg, 300))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Mlflow-Guard-Decision", "deny; rule=MLG401; reason=oidc-backchannel-"+reason)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": strings.ToValidUTF8(msg, "?")})
	}
	if !g.oidc.bcLimit.allow("ip:"+st.ip, g.now()) {
		w.Header().Set("Retry-After", "1")
		fail(http.StatusTooManyRequests, "temporarily_unavailable", "rate-limited", "too many logout requests from this address")
		return
	}
	if r.Method != http.MethodPost {
		fail(http.StatusBadRequest, "invalid_request", "bad-request", "back-channel logout is a POST")
		return
	}
	if r.URL.RawQuery != "" {
		// A token in the URL would be written to access logs on the way.
		fail(http.StatusBadRequest, "invalid_request", "bad-request", "the logout token belongs in the POST body, and nothing in the query")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLogoutForm))
	if err != nil {
		fail(http.StatusBadRequest, "invalid_request", "bad-request", fmt.Sprintf("body unreadable or over %d bytes", maxLogoutForm))
		return
	}
	tok, err := parseLogoutForm(r.Header.Get("Content-Type"), body)
	if err != nil {
		fail(http.StatusBadRequest, "invalid_request", "bad-request", err.Error())
		return
	}
	_, _, provider, err := g.oidc.setup(r.Context())
	if err != nil {
		g.log.Error("OIDC provider unavailable", "request_id", st.id, "err", err)
		fail(http.StatusBadRequest, "temporarily_unavailable", "provider-unavailable", "the provider's keys could not be fetched; send again later")
		return
	}
	// The ID token verifier checks what a logout token shares with an ID
	// token: signature by the provider's keys (the algorithms it
	// announces), iss, aud containing our client id, and exp.
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	idt, err := provider.Verifier(&oidc.Config{ClientID: g.oidc.cfg.ClientID, Now: g.now}).Verify(ctx, tok)
	if err != nil {
		fail(http.StatusBadRequest, "invalid_request", "bad-token", "logout token rejected: "+err.Error())
		return
	}
	var payload json.RawMessage
	if err := idt.Claims(&payload); err != nil {
		fail(http.StatusBadRequest, "invalid_request", "bad-token", "logout token claims unreadable")
		return
	}
	lc, err := checkLogoutClaims(payload, g.now(), g.oidc.cfg.LogoutTokenMaxAge)
	if err != nil {
		fail(http.StatusBadRequest, "invalid_request", "bad-token", err.Error())
		return
	}
	l := store.Logout{JTI: idt.Issuer + " " + lc.Jti, JTIExpires: lc.RetainUntil, Route: route, RequestID: st.id, IP: st.ip}
	if lc.Sub != "" {
		l.Subject = idt.Issuer + " " + lc.Sub // as CreateOIDCSession binds users
	}
	if lc.Sid != "" {
		l.SID = idt.Issuer + " " + lc.Sid
	}
	out, rule, err := g.store.BackchannelLogout(r.Context(), l)
	switch {
	case errors.Is(err, store.ErrReplay):
		fail(http.StatusBadRequest, "invalid_request", "replayed", "this logout token (jti) was already used")
		return
	case err != nil:
		g.log.Error("back-channel logout: store failed", "request_id", st.id, "err", err)
		fail(http.StatusBadRequest, "temporarily_unavailable", "store-unavailable", "the sessions could not be ended; send again later")
		return
	}
	// This replica forgets the sessions now; the others within their
	// cache time (Config.StateCacheTTL).
	users := map[string]bool{}
	for _, o := range out {
		g.oidc.sessions.del(o.IDHash)
		users[o.User] = true
	}
	g.log.Info("back-channel logout", "request_id", st.id, "rule", rule, "sessions", len(out), "users", len(users))
	w.WriteHeader(http.StatusOK)
}

// endSessionURL is where a browser goes after logging out here (OpenID
// Connect RP-Initiated Logout 1.0), or "" when the provider announces no
// end_session_endpoint or is unreachable. The gateway keeps no ID token,
// so it names itself by client_id instead of id_token_hint; a provider
// may then ask the user to confirm.
func (o *oidcAuth) endSessionURL(ctx context.Context) string {
	if _, _, _, err := o.setup(ctx); err != nil {
		return ""
	}
	o.mu.Lock()
	es := o.endSession
	o.mu.Unlock()
	if es == "" {
		return ""
	}
	u, err := url.Parse(es)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", o.cfg.ClientID)
	if o.cfg.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", o.cfg.PostLogoutRedirectURL)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// isNavigationOrForm says whether a logout request is a browser page load
// or form submission (to be redirected), not a fetch from a script.
func isNavigationOrForm(r *http.Request) bool {
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	return strings.HasPrefix(r.Header.Get("Accept"), "text/html")
}
