package gateway

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// Cookie names. The __Host- prefix makes the browser refuse them unless
// they are Secure, have Path=/ and no Domain: no sibling host or plain-HTTP
// page can plant or overwrite them.
const (
	sessionCookie = "__Host-mlg_session"
	flowCookie    = "__Host-mlg_oidc_flow"
	cookieVersion = "v1."
	maxCookieLen  = 2048
)

var b64 = base64.RawURLEncoding

var errBadCookie = errors.New("malformed cookie")

// encodeSessionID is the session cookie's value: an opaque random id. The
// store keeps only its keyed hash, so a leaked database row is no session.
func encodeSessionID(id []byte) string { return cookieVersion + b64.EncodeToString(id) }

// decodeSessionID parses a session cookie value strictly: the version, 32
// bytes of canonical unpadded base64url, nothing else.
func decodeSessionID(v string) ([]byte, error) {
	if len(v) != len(cookieVersion)+43 || !strings.HasPrefix(v, cookieVersion) {
		return nil, errBadCookie
	}
	id, err := b64.Strict().DecodeString(v[len(cookieVersion):])
	if err != nil || len(id) != 32 {
		return nil, errBadCookie
	}
	return id, nil
}

// keyedHash is an HMAC under a key derived for one purpose.
func keyedHash(key []byte, purpose string, data []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil))
}

// flowState is what a login in progress must remember until the callback:
// kept in a sealed cookie, so an anonymous visitor costs no store write.
type flowState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"` // PKCE code verifier
	ReturnTo string `json:"r"`
	Expires  int64  `json:"e"` // Unix seconds
}

// sealer encrypts and authenticates flow cookies (AES-256-GCM) under a key
// derived from the store's server key, so every replica can open them.
type sealer struct{ aead cipher.AEAD }

func newSealer(serverKey []byte) (*sealer, error) {
	m := hmac.New(sha256.New, serverKey)
	m.Write([]byte("mlflow-guard oidc flow cookie v1"))
	blk, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	return &sealer{a}, nil
}

func (s *sealer) seal(f flowState) (string, error) {
	pt, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := s.aead.Seal(nonce, nonce, pt, []byte(flowCookie))
	return cookieVersion + b64.EncodeToString(ct), nil
}

// open decrypts and checks a flow cookie: authentic, every field present,
// not expired. Any failure is one error; the caller says "start again".
func (s *sealer) open(v string, now time.Time) (*flowState, error) {
	if len(v) > maxCookieLen || !strings.HasPrefix(v, cookieVersion) {
		return nil, errBadCookie
	}
	raw, err := b64.Strict().DecodeString(v[len(cookieVersion):])
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, errBadCookie
	}
	ns := s.aead.NonceSize()
	pt, err := s.aead.Open(nil, raw[:ns], raw[ns:], []byte(flowCookie))
	if err != nil {
		return nil, errBadCookie
	}
	var f flowState
	dec := json.NewDecoder(strings.NewReader(string(pt)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, errBadCookie
	}
	if len(f.State) < 32 || len(f.Nonce) < 32 || len(f.Verifier) < 43 || len(f.Verifier) > 128 || !localPath(f.ReturnTo) {
		return nil, errBadCookie
	}
	if now.Unix() >= f.Expires {
		return nil, errors.New("login took too long")
	}
	return &f, nil
}

// localPath accepts only a path on this origin as a post-login target: no
// scheme, no host, no "//" or "/\" that a browser would read as one.
func localPath(p string) bool {
	if p == "" || p[0] != '/' || len(p) > 1024 {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}

// setCookie writes one of our cookies with the attributes __Host- needs.
func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

func clearCookie(w http.ResponseWriter, name string) { setCookie(w, name, "", -1) }

// cookieValue returns the value of the only cookie with that name; two of
// them (a planted duplicate) count as none.
func cookieValue(r *http.Request, name string) (string, bool) {
	var v string
	n := 0
	for _, c := range r.CookiesNamed(name) {
		v = c.Value
		n++
	}
	return v, n == 1
}

// sessionEntry is a verified session, cached briefly.
type sessionEntry struct {
	user    *store.User
	expires time.Time
}

// errNoSession means the request carries no usable session cookie.
var errNoSession = errors.New("no valid session")

// sessionIdentity resolves the session cookie. It returns errNoSession for
// a missing, malformed, unknown, revoked or expired session, and a store
// error as itself (the caller denies with 503).
func (g *Gateway) sessionIdentity(ctx context.Context, r *http.Request) (*Identity, string, error) {
	v, ok := cookieValue(r, sessionCookie)
	if !ok {
		return nil, "", errNoSession
	}
	id, err := decodeSessionID(v)
	if err != nil {
		return nil, "", errNoSession
	}
	h := keyedHash(g.store.Key(), "session", id)
	now := g.now()
	if e, hit := g.oidc.sessions.get(h, now); hit {
		if now.Before(e.expires) {
			return &Identity{User: e.user, Method: "session"}, h, nil
		}
		g.oidc.sessions.del(h)
		return nil, h, errNoSession
	}
	ses, u, err := g.store.LoadSession(ctx, h)
	if errors.Is(err, store.ErrBadCredentials) {
		return nil, h, errNoSession
	}
	if err != nil {
		return nil, h, err
	}
	if !now.Before(ses.Expires) {
		return nil, h, errNoSession
	}
	// The store's own memberships plus the groups the provider asserted at
	// login; admin from the store flag or a configured admin group.
	merged := *u
	merged.Groups = mergeGroups(u.Groups, ses.Groups)
	merged.Admin = u.Admin || ses.Admin
	g.oidc.sessions.put(h, sessionEntry{&merged, ses.Expires}, now)
	return &Identity{User: &merged, Method: "session"}, h, nil
}

func mergeGroups(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, g := range append(append([]string{}, a...), b...) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

func (c *ttlCache[V]) del(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, k)
}

// checkSessionOrigin is CSRF protection for cookie-authenticated requests.
// The MLflow UI cannot add a token to its ajax calls, so the browser's own
// Sec-Fetch-Site and Origin headers decide (net/http's
// CrossOriginProtection). Stricter than it for unsafe methods: a browser
// always sends one of the two on a write, so a cookie write carrying
// neither is refused too.
func (g *Gateway) checkSessionOrigin(r *http.Request) *Denial {
	if err := g.oidc.csrf.Check(r); err != nil {
		return denyHygiene(http.StatusForbidden, "csrf-cross-origin",
			fmt.Sprintf("cross-origin %s with a session cookie refused (Sec-Fetch-Site %q, Origin %q)", r.Method, r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin")))
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") == "" {
		return denyHygiene(http.StatusForbidden, "csrf-no-origin",
			fmt.Sprintf("%s with a session cookie but neither Sec-Fetch-Site nor Origin; refused", r.Method))
	}
	return nil
}

// isNavigation says whether a request is a browser's top-level page load:
// only those are sent to the login page, never an API or ajax call.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		dest := r.Header.Get("Sec-Fetch-Dest")
		return mode == "navigate" && (dest == "" || dest == "document")
	}
	// Browsers without fetch metadata: a page load asks for HTML first.
	return strings.HasPrefix(r.Header.Get("Accept"), "text/html")
}

// sessionAuth authenticates a request that has no Authorization header by
// its session cookie. A cookie write must come from our own origin. With
// no valid session, a browser's page load of the UI is sent to the login
// (decision "login-redirect", no denial); anything else falls through to
// the usual 401.
func (g *Gateway) sessionAuth(w http.ResponseWriter, r *http.Request, st *reqState) (*Identity, *Denial) {
	_, present := r.Header["Cookie"]
	id, _, err := g.sessionIdentity(r.Context(), r)
	switch {
	case err == nil:
		if d := g.checkSessionOrigin(r); d != nil {
			st.identity = id
			return nil, d
		}
		return id, nil
	case !errors.Is(err, errNoSession):
		g.log.Error("session lookup failed", "request_id", st.id, "err", err)
		return nil, denyUnavailable("store-unavailable", "the gateway could not check the session; try again")
	}
	if present {
		if _, has := cookieValue(r, sessionCookie); has {
			clearCookie(w, sessionCookie) // stale, tampered or logged out
		}
	}
	if isNavigation(r) {
		if rt, _ := g.router.Match(r.Method, r.URL.Path); rt != nil && rt.Class == ClassUI {
			st.decision = "login-redirect"
			g.loginRedirect(w, r)
			return nil, nil
		}
	}
	return nil, nil
}
