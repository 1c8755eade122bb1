package gateway

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// OIDCConfig turns on OIDC login for the MLflow web UI (authorization
// code flow with PKCE S256, state and nonce). API clients keep using Basic
// and Bearer credentials.
type OIDCConfig struct {
	Issuer       string // discovery at Issuer/.well-known/openid-configuration
	ClientID     string
	ClientSecret string // never logged
	// RedirectURL is this gateway's callback as the browser reaches it,
	// registered at the provider; its path is served by the gateway.
	RedirectURL string
	Scopes      []string // default: openid email profile
	// UsernameClaim names the store user (default "email", which must then
	// come with email_verified true). "sub" gives stable, opaque names.
	UsernameClaim string
	// GroupsClaim holds the user's groups (default "groups"; "-": none).
	// They are store group names for grants; names the store could not
	// hold are dropped.
	GroupsClaim string
	// AdminGroups: a claim group in this list makes the session an admin.
	// Empty (the default): no OIDC login is ever an admin by claim.
	AdminGroups []string
	SessionTTL  time.Duration // default 8h
	FlowTTL     time.Duration // login must finish within it; default 10m
	// LogoutTokenMaxAge: a back-channel logout token issued longer ago
	// (its iat) is refused; default 5m.
	LogoutTokenMaxAge time.Duration
	// PostLogoutRedirectURL, registered at the provider, is where its
	// end_session_endpoint sends the browser after an RP-initiated
	// logout; empty: the provider's own page.
	PostLogoutRedirectURL string
	// HTTPClient talks to the provider; default: 10s timeout.
	HTTPClient *http.Client
}

const (
	oidcPrefix = "/mlflow-guard/oidc/"
	loginPath  = oidcPrefix + "login"
	logoutPath = oidcPrefix + "logout"
	// shortLogoutPath is the same logout, easier to type.
	shortLogoutPath = "/mlflow-guard/logout"
	maxGroups       = 256
)

// oidcAuth is the relying party. Discovery runs on first use and is
// retried while it fails, so a provider outage at start-up does not stop
// the gateway serving API clients.
type oidcAuth struct {
	cfg          OIDCConfig
	callbackPath string
	seal         *sealer
	csrf         *http.CrossOriginProtection
	sessions     *ttlCache[sessionEntry]
	client       *http.Client
	bcLimit      *limiter // back-channel logout requests per IP

	mu         sync.Mutex
	provider   *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	oauth      *oauth2.Config
	endSession string // discovery's end_session_endpoint, if any
}

// validateOIDC checks a configuration before anything listens.
func validateOIDC(c *OIDCConfig) (callbackPath string, err error) {
	var problems []string
	iss, err := url.Parse(c.Issuer)
	if c.Issuer == "" || err != nil || iss.Host == "" || (iss.Scheme != "https" && !(iss.Scheme == "http" && loopbackHost(iss.Hostname()))) {
		problems = append(problems, "--oidc-issuer must be an https:// URL (http:// only on loopback)")
	}
	if c.ClientID == "" {
		problems = append(problems, "--oidc-client-id is required")
	}
	ru, err := url.Parse(c.RedirectURL)
	if c.RedirectURL == "" || err != nil || ru.Scheme != "https" || ru.Host == "" || ru.RawQuery != "" || ru.Fragment != "" ||
		!strings.HasPrefix(ru.Path, oidcPrefix) || ru.Path == loginPath || ru.Path == logoutPath || ru.Path == backchannelPath {
		problems = append(problems, fmt.Sprintf("--oidc-redirect-url must be https://HOST%scallback (the session cookie is __Host-, so Secure)", oidcPrefix))
	} else {
		callbackPath = ru.Path
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	if !slices.Contains(c.Scopes, oidc.ScopeOpenID) {
		problems = append(problems, "--oidc-scopes must include openid")
	}
	if c.UsernameClaim == "" {
		c.UsernameClaim = "email"
	}
	if c.GroupsClaim == "" {
		c.GroupsClaim = "groups"
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 8 * time.Hour
	}
	if c.FlowTTL == 0 {
		c.FlowTTL = 10 * time.Minute
	}
	if c.LogoutTokenMaxAge == 0 {
		c.LogoutTokenMaxAge = 5 * time.Minute
	}
	if c.LogoutTokenMaxAge < 10*time.Second || c.LogoutTokenMaxAge > time.Hour {
		problems = append(problems, "--oidc-logout-token-max-age must be between 10s and 1h")
	}
	if c.PostLogoutRedirectURL != "" {
		pu, err := url.Parse(c.PostLogoutRedirectURL)
		if err != nil || pu.Host == "" || pu.Fragment != "" || (pu.Scheme != "https" && !(pu.Scheme == "http" && loopbackHost(pu.Hostname()))) {
			problems = append(problems, "--oidc-post-logout-redirect-url must be an https:// URL (http:// only on loopback)")
		}
	}
	if c.SessionTTL < time.Minute || c.SessionTTL > 30*24*time.Hour {
		problems = append(problems, "--oidc-session-ttl must be between 1m and 720h")
	}
	for _, a := range c.AdminGroups {
		if err := store.ValidName("group", a); err != nil {
			problems = append(problems, "--oidc-admin-group: "+err.Error())
		}
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	return callbackPath, nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func newOIDC(c OIDCConfig, serverKey []byte, cacheTTL time.Duration) (*oidcAuth, error) {
	cb, err := validateOIDC(&c)
	if err != nil {
		return nil, err
	}
	s, err := newSealer(serverKey)
	if err != nil {
		return nil, err
	}
	client := c.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &oidcAuth{cfg: c, callbackPath: cb, seal: s, csrf: http.NewCrossOriginProtection(),
		sessions: newTTLCache[sessionEntry](cacheTTL, 10000), client: client, bcLimit: newLimiter(10, 100)}, nil
}

// setup runs discovery once it succeeds.
func (o *oidcAuth) setup(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, *oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.oauth, o.verifier, o.provider, nil
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.client), 15*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("OIDC discovery at %s: %w", o.cfg.Issuer, err)
	}
	var meta struct {
		Methods    []string `json:"code_challenge_methods_supported"`
		EndSession string   `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, nil, nil, fmt.Errorf("OIDC discovery at %s: %w", o.cfg.Issuer, err)
	}
	if meta.Methods != nil && !slices.Contains(meta.Methods, "S256") {
		return nil, nil, nil, fmt.Errorf("OIDC provider %s does not support PKCE S256 (code_challenge_methods_supported=%v)", o.cfg.Issuer, meta.Methods)
	}
	if es, err := url.Parse(meta.EndSession); meta.EndSession != "" && err == nil && (es.Scheme == "https" || es.Scheme == "http" && loopbackHost(es.Hostname())) {
		o.endSession = meta.EndSession
	}
	o.provider = p
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	o.oauth = &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: o.cfg.RedirectURL, Scopes: o.cfg.Scopes}
	return o.oauth, o.verifier, o.provider, nil
}

// loginDenial is a failed login step: a JSON error, never a redirect, and
// not a 401 (a browser would answer that with a Basic password prompt).
func loginDenial(reason, msg string) *Denial {
	return &Denial{http.StatusForbidden, "UNAUTHENTICATED", "MLG401", reason, msg}
}

// handleOIDC serves the gateway's own login, callback and logout paths.
// ok is false for any other path.
func (g *Gateway) handleOIDC(w http.ResponseWriter, r *http.Request, st *reqState) (d *Denial, ok bool) {
	switch r.URL.Path {
	case loginPath:
		return g.oidcLogin(w, r), true
	case g.oidc.callbackPath:
		return g.oidcCallback(w, r, st), true
	case logoutPath, shortLogoutPath:
		return g.oidcLogout(w, r, st), true
	case backchannelPath:
		g.oidcBackchannelLogout(w, r, st)
		return nil, true
	}
	if strings.HasPrefix(r.URL.Path, oidcPrefix) {
		return denyForbidden("unknown-route", "no such login path"), true
	}
	return nil, false
}

func (g *Gateway) oidcLogin(w http.ResponseWriter, r *http.Request) *Denial {
	if r.Method != http.MethodGet {
		return denyForbidden("unknown-route", "login is a GET")
	}
	oc, _, _, err := g.oidc.setup(r.Context())
	if err != nil {
		g.log.Error("OIDC provider unavailable", "err", err)
		return denyUnavailable("oidc-unavailable", "the login provider is unavailable; try again")
	}
	ret := r.URL.Query().Get("return_to")
	if !localPath(ret) {
		ret = "/"
	}
	f := flowState{State: randomString(32), Nonce: randomString(32), Verifier: oauth2.GenerateVerifier(), ReturnTo: ret,
		Expires: g.now().Add(g.oidc.cfg.FlowTTL).Unix()}
	v, err := g.oidc.seal.seal(f)
	if err != nil {
		return denyUnavailable("oidc-unavailable", "could not start a login")
	}
	setCookie(w, flowCookie, v, int(g.oidc.cfg.FlowTTL.Seconds()))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, oc.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
	return nil
}

// loginRedirect sends an unauthenticated page load to the login.
func (g *Gateway) loginRedirect(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, loginPath+"?return_to="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
}

func (g *Gateway) oidcCallback(w http.ResponseWriter, r *http.Request, st *reqState) *Denial {
	if r.Method != http.MethodGet {
		return denyForbidden("unknown-route", "the login callback is a GET")
	}
	// Whatever happens, this login attempt is over.
	clearCookie(w, flowCookie)
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	v, ok := cookieValue(r, flowCookie)
	if !ok {
		return loginDenial("oidc-no-flow", "no login in progress in this browser (or it was already used); start again at "+loginPath)
	}
	f, err := g.oidc.seal.open(v, g.now())
	if err != nil {
		return loginDenial("oidc-bad-flow", "login state unreadable or expired; start again at "+loginPath)
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return loginDenial("oidc-bad-state", "the state returned by the provider does not match this browser's login")
	}
	if e := q.Get("error"); e != "" {
		return loginDenial("oidc-provider-error", "the provider refused the login: "+truncate(e, 64))
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		return loginDenial("oidc-no-code", "no authorization code in the callback")
	}
	oc, verifier, provider, err := g.oidc.setup(r.Context())
	if err != nil {
		g.log.Error("OIDC provider unavailable", "request_id", st.id, "err", err)
		return denyUnavailable("oidc-unavailable", "the login provider is unavailable; try again")
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), g.oidc.client), 20*time.Second)
	defer cancel()
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		g.log.Warn("OIDC code exchange failed", "request_id", st.id, "err", redactOAuthErr(err))
		return loginDenial("oidc-exchange-failed", "the provider did not accept the authorization code")
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return loginDenial("oidc-no-id-token", "the provider returned no ID token")
	}
	idt, err := verifier.Verify(ctx, rawID)
	if err != nil {
		g.log.Warn("ID token rejected", "request_id", st.id, "err", err)
		return loginDenial("oidc-bad-id-token", "the ID token did not verify")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return loginDenial("oidc-bad-nonce", "the ID token's nonce does not match this login")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return loginDenial("oidc-bad-id-token", "ID token claims unreadable")
	}
	// The provider's session id, from the ID token itself (never from
	// userinfo): a back-channel logout naming it ends this session.
	idpSID := ""
	if v, _ := claims["sid"].(string); v != "" && len(v) <= maxLogoutClaim {
		idpSID = idt.Issuer + " " + v
	}
	if len(idt.Audience) > 1 {
		if azp, _ := claims["azp"].(string); azp != g.oidc.cfg.ClientID {
			return loginDenial("oidc-bad-id-token", "ID token for several audiences without this client as azp")
		}
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return loginDenial("oidc-bad-id-token", "at_hash does not match the access token")
		}
	}
	// Claims the ID token lacks come from userinfo, for the same subject.
	if _, has := claims[g.oidc.cfg.UsernameClaim]; !has || (g.oidc.cfg.GroupsClaim != "-" && claims[g.oidc.cfg.GroupsClaim] == nil) {
		if provider.UserInfoEndpoint() != "" {
			ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				g.log.Warn("OIDC userinfo failed", "request_id", st.id, "err", redactOAuthErr(err))
				return loginDenial("oidc-userinfo-failed", "the provider's userinfo endpoint failed")
			}
			if ui.Subject != idt.Subject {
				return loginDenial("oidc-bad-id-token", "userinfo is for another subject")
			}
			extra := map[string]any{}
			if err := ui.Claims(&extra); err != nil {
				return loginDenial("oidc-userinfo-failed", "userinfo unreadable")
			}
			for k, v := range extra {
				if _, has := claims[k]; !has {
					claims[k] = v
				}
			}
		}
	}
	name, d := usernameFrom(claims, g.oidc.cfg.UsernameClaim)
	if d != nil {
		return d
	}
	groups, dropped := groupsFrom(claims, g.oidc.cfg.GroupsClaim)
	if len(dropped) > 0 {
		g.log.Warn("OIDC groups dropped: not valid store group names", "request_id", st.id, "user", name, "count", len(dropped))
	}
	admin := false
	for _, a := range g.oidc.cfg.AdminGroups {
		admin = admin || slices.Contains(groups, a)
	}
	sid := make([]byte, 32)
	if _, err := rand.Read(sid); err != nil {
		return denyUnavailable("oidc-unavailable", "could not create a session")
	}
	now := g.now()
	exp := now.Add(g.oidc.cfg.SessionTTL)
	err = g.store.CreateOIDCSession(r.Context(), store.OIDCLogin{Name: name, Subject: idt.Issuer + " " + idt.Subject, Groups: groups, Admin: admin,
		SID:    idpSID,
		IDHash: keyedHash(g.store.Key(), "session", sid), FlowHash: keyedHash(g.store.Key(), "flow", []byte(f.State)), Expires: exp,
		RequestID: st.id, IP: st.ip})
	switch {
	case errors.Is(err, store.ErrFlowUsed):
		return loginDenial("oidc-replayed", "this login was already completed; start again at "+loginPath)
	case errors.Is(err, store.ErrSubjectMismatch):
		return loginDenial("oidc-name-taken", fmt.Sprintf("user name %q belongs to a local user or another identity; an administrator must resolve it", name))
	case errors.Is(err, store.ErrBadCredentials):
		return loginDenial("user-disabled", "this user is disabled")
	case err != nil:
		g.log.Error("session store failed", "request_id", st.id, "err", err)
		return denyUnavailable("store-unavailable", "could not record the session; try again")
	}
	_ = g.store.PurgeSessions(r.Context(), now.Add(-time.Hour))
	setCookie(w, sessionCookie, encodeSessionID(sid), int(g.oidc.cfg.SessionTTL.Seconds()))
	st.identity = &Identity{User: &store.User{Name: name}, Method: "session"}
	http.Redirect(w, r, f.ReturnTo, http.StatusFound)
	return nil
}

// oidcLogout revokes the session in the store (so every replica stops
// accepting it) and clears the cookie. POST from our own origin, or a GET
// the user typed or clicked on our own pages.
func (g *Gateway) oidcLogout(w http.ResponseWriter, r *http.Request, st *reqState) *Denial {
	switch r.Method {
	case http.MethodPost:
		if err := g.oidc.csrf.Check(r); err != nil || (r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") == "") {
			return denyHygiene(http.StatusForbidden, "csrf-cross-origin", "logout from another origin refused")
		}
	case http.MethodGet:
		if s := r.Header.Get("Sec-Fetch-Site"); s != "same-origin" && s != "none" {
			return denyHygiene(http.StatusForbidden, "csrf-cross-origin", "logout by GET only from this site's own pages")
		}
	default:
		return denyForbidden("unknown-route", "logout is a POST")
	}
	id, h, err := g.sessionIdentity(r.Context(), r)
	clearCookie(w, sessionCookie)
	w.Header().Set("Cache-Control", "no-store")
	if err == nil {
		st.identity = id
		g.oidc.sessions.del(h)
		if err := g.store.RevokeSession(r.Context(), id.User.Name, h, st.id); err != nil && !errors.Is(err, store.ErrNotFound) {
			g.log.Error("session revoke failed", "request_id", st.id, "err", err)
			return denyUnavailable("store-unavailable", "could not end the session; try again")
		}
	} else if !errors.Is(err, errNoSession) {
		return denyUnavailable("store-unavailable", "could not end the session; try again")
	}
	// RP-initiated logout: a browser navigating here is sent on to the
	// provider's end_session_endpoint, so the login there ends too;
	// scripts and ajax calls get a plain answer.
	if es := g.oidc.endSessionURL(r.Context()); es != "" && isNavigationOrForm(r) {
		status := http.StatusFound
		if r.Method == http.MethodPost {
			status = http.StatusSeeOther
		}
		http.Redirect(w, r, es, status)
		return nil
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("logged out\n"))
	return nil
}

// redactOAuthErr keeps an exchange error's code, never a response body
// that could echo the client secret or a token.
func redactOAuthErr(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return fmt.Sprintf("token endpoint answered %d %s", re.Response.StatusCode, truncate(re.ErrorCode, 64))
	}
	return truncate(err.Error(), 200)
}

func usernameFrom(claims map[string]any, claim string) (string, *Denial) {
	name, _ := claims[claim].(string)
	if name == "" {
		return "", loginDenial("oidc-no-username", fmt.Sprintf("the provider sent no %q claim", claim))
	}
	if claim == "email" {
		if v, _ := claims["email_verified"].(bool); !v {
			return "", loginDenial("oidc-email-unverified", "the provider does not say this email is verified")
		}
	}
	if err := store.ValidName("user", name); err != nil {
		return "", loginDenial("oidc-bad-username", fmt.Sprintf("claim %q is not a valid user name", claim))
	}
	return name, nil
}

// groupsFrom reads the groups claim: a list of strings, or one string.
func groupsFrom(claims map[string]any, claim string) (groups, dropped []string) {
	if claim == "-" {
		return nil, nil
	}
	var raw []string
	switch v := claims[claim].(type) {
	case string:
		raw = []string{v}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				raw = append(raw, s)
			}
		}
	}
	for _, s := range raw {
		if len(groups) < maxGroups && store.ValidName("group", s) == nil && !slices.Contains(groups, s) {
			groups = append(groups, s)
		} else {
			dropped = append(dropped, s)
		}
	}
	return groups, dropped
}
