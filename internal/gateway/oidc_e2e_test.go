package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	opstorage "github.com/zitadel/oidc/v3/example/server/storage"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// The provider is zitadel/oidc's example OP, unmodified except that its
// userinfo also carries a "groups" claim (the example storage has none).
const (
	opClientID     = "mlflow-guard-ui"
	opClientSecret = "op client secret for tests"
	opUser1        = "test-user@127.0.0.1" // sub id1, email test-user@zitadel.ch
	opUser2        = "test-user2"          // sub id2, email test-user2@zitadel.ch
	opPassword     = "verysecure"
	user1Name      = "test-user@zitadel.ch"
	user2Name      = "test-user2@zitadel.ch"
)

type groupsStorage struct {
	*opstorage.Storage
	groups map[string][]string // subject -> groups

	mu   sync.Mutex
	sids map[string]string // subject -> sid of its latest ID token
}

// SetUserinfoFromRequest fills the ID token's claims; it adds a "sid"
// (one per authorization request, as a provider's login session), which
// the example storage does not send, so back-channel logout by sid can be
// tested. The test reads it back with lastSID.
func (s *groupsStorage) SetUserinfoFromRequest(ctx context.Context, ui *zoidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, req, scopes); err != nil {
		return err
	}
	if ar, ok := req.(interface{ GetID() string }); ok {
		sid := "op-session-" + ar.GetID()
		ui.AppendClaims("sid", sid)
		s.mu.Lock()
		s.sids[req.GetSubject()] = sid
		s.mu.Unlock()
	}
	return nil
}

func (s *groupsStorage) lastSID(subject string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sids[subject]
}

func (s *groupsStorage) SetUserinfoFromToken(ctx context.Context, ui *zoidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, ui, tokenID, subject, origin); err != nil {
		return err
	}
	if g, ok := s.groups[ui.Subject]; ok {
		ui.AppendClaims("groups", g)
	}
	return nil
}

// startOPStorage runs the OP on a loopback port; redirect is the gateway's
// callback registered for the client. It returns the issuer and the
// provider's storage, which holds its signing key (for logout tokens) and
// the sids it issued.
func startOPStorage(t testing.TB, redirect string) (string, *groupsStorage) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	opstorage.RegisterClients(opstorage.WebClient(opClientID, opClientSecret, redirect))
	st := &groupsStorage{Storage: opstorage.NewStorage(opstorage.NewUserStore(issuer)),
		groups: map[string][]string{"id1": {"ml-team", "not a valid group name!"}, "id2": {}}, sids: map[string]string{}}
	srv := &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return issuer, st
}

// writeTestCert makes a self-signed certificate for 127.0.0.1.
func writeTestCert(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

type oidcHarness struct {
	url      string // https://127.0.0.1:PORT
	cb       string // callback URL
	issuer   string
	op       *groupsStorage // the provider's storage: its signing key, the sids it issued
	ml       *testenv.MLflowServer
	st       *store.Store
	g        *Gateway
	offset   *atomic.Int64 // gateway clock offset (ns), for expiry tests
	rootPW   string
	visible  string // experiment id granted to group ml-team
	hidden   string // experiment id granted to another group
	cfg      Config
	listen   string
	cert     string
	key      string
	partner  string // a CORS-listed origin: cookie writes from it are still refused
	stopGate func()
	top      *testing.T // the gateway lives until the whole test ends
}

// startOIDCHarness: the pinned MLflow server, the OP, and the gateway on
// TLS with OIDC login, in front of MLflow; an admin "root" (Basic) and two
// experiments, one granted to the OIDC group ml-team.
func startOIDCHarness(t *testing.T) *oidcHarness {
	t.Helper()
	testenv.SkipIfShort(t, "MLflow, an OIDC provider and the gateway")
	h := &oidcHarness{ml: testenv.StartMLflow(t, testenv.MLflowOptions{}), offset: &atomic.Int64{}, rootPW: "root password 12", top: t}
	port := testenv.FreePort(t)
	h.listen = fmt.Sprintf("127.0.0.1:%d", port)
	h.url = "https://" + h.listen
	h.cb = h.url + "/mlflow-guard/oidc/callback"
	h.issuer, h.op = startOPStorage(t, h.cb)
	h.partner = fmt.Sprintf("https://127.0.0.1:%d", testenv.FreePort(t))
	ctx := context.Background()
	var err error
	if h.st, err = store.Open(ctx, store.Options{DataDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.st.Close() })
	if err := h.st.CreateUser(ctx, "test", "root", h.rootPW, true); err != nil {
		t.Fatal(err)
	}
	h.cert, h.key = writeTestCert(t)
	up, _ := url.Parse(h.ml.URL)
	h.cfg = Config{Upstream: up, TLS: true, LoginFailLimit: 1000, StateCacheTTL: 200 * time.Millisecond, CORSOrigins: []string{h.partner},
		OIDC: &OIDCConfig{Issuer: h.issuer, ClientID: opClientID, ClientSecret: opClientSecret, RedirectURL: h.cb, SessionTTL: time.Hour}}
	h.startGateway(t)
	h.visible = h.createExperiment(t, "oidc-visible-exp")
	h.hidden = h.createExperiment(t, "oidc-hidden-exp")
	for id, grp := range map[string]string{h.visible: "ml-team", h.hidden: "other-team"} {
		if err := h.st.AddGrant(ctx, "test", store.Grant{Principal: store.Principal{Kind: "group", Name: grp}, ResourceKind: "experiment",
			ResourceID: id, Permission: store.Read}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// startGateway (re)starts the gateway on the same address and store.
func (h *oidcHarness) startGateway(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(h.top.TempDir(), "gateway.log"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	h.top.Cleanup(func() { logf.Close() })
	g, err := New(h.cfg, h.st, slog.New(slog.NewJSONHandler(logf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	off := h.offset
	g.now = func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
	h.g = g
	sctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- g.Serve(sctx, ServerOptions{Listen: h.listen, CertFile: h.cert, KeyFile: h.key, Ready: func(a, _ string) { ready <- a }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	var once atomic.Bool
	h.stopGate = func() {
		if once.CompareAndSwap(false, true) {
			cancel()
			<-done
		}
	}
	h.top.Cleanup(h.stopGate)
}

func (h *oidcHarness) createExperiment(t *testing.T, name string) string {
	t.Helper()
	resp, body := h.basic(t, "POST", "/api/2.0/mlflow/experiments/create", `{"name":"`+name+`"}`)
	if resp.StatusCode != 200 {
		t.Fatalf("create %s: %d %s", name, resp.StatusCode, body)
	}
	var r struct {
		ID string `json:"experiment_id"`
	}
	_ = json.Unmarshal([]byte(body), &r)
	return r.ID
}

func insecureTransport() *http.Transport {
	return &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the test's own self-signed cert
}

func (h *oidcHarness) basic(t *testing.T, method, path, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, h.url+path, strings.NewReader(body))
	req.SetBasicAuth("root", h.rootPW)
	req.Header.Set("Content-Type", "application/json")
	return send(t, &http.Client{Transport: insecureTransport()}, req)
}

func send(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// browser is a Go client that keeps cookies and stops at the gateway's
// callback, so a test can replay or alter it.
type browser struct {
	c   *http.Client // follows redirects up to the gateway's callback
	raw *http.Client // follows none
	jar *cookiejar.Jar
	h   *oidcHarness
}

func (h *oidcHarness) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{jar: jar, h: h}
	b.c = &http.Client{Transport: insecureTransport(), Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/mlflow-guard/oidc/callback" || via[len(via)-1].URL.Path == "/mlflow-guard/oidc/callback" || len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	b.raw = &http.Client{Transport: insecureTransport(), Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return b
}

var authReqIDRE = regexp.MustCompile(`name="id" value="([^"]+)"`)

// authorize goes from the gateway's login to the provider's login form,
// signs in, and returns the callback URL the provider redirects to.
func (b *browser) authorize(t *testing.T, user string) *url.URL {
	t.Helper()
	resp, body := send(t, b.c, b.nav("GET", b.h.url+"/mlflow-guard/oidc/login?return_to=/%23/experiments"))
	m := authReqIDRE.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("login page: %d %s", resp.StatusCode, body)
	}
	form := url.Values{"id": {m[1]}, "username": {user}, "password": {opPassword}}
	req, _ := http.NewRequest("POST", b.h.issuer+"/login/username", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body = send(t, b.c, req)
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), b.h.cb+"?") {
		t.Fatalf("provider login: %d %v %s", resp.StatusCode, loc, body)
	}
	return loc
}

func (b *browser) nav(method, u string) *http.Request {
	req, _ := http.NewRequest(method, u, nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Dest", "document")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Accept", "text/html")
	return req
}

// ajax sends a same-origin fetch as the MLflow UI does.
func (b *browser) ajax(t *testing.T, method, path, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, b.h.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.h.url)
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return send(t, b.c, req)
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.h.url)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.h.url)
	b.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/", Secure: true}})
}

// login runs the whole flow and checks it lands on return_to.
func (b *browser) login(t *testing.T, user string) {
	t.Helper()
	cb := b.authorize(t, user)
	resp, body := send(t, b.c, b.nav("GET", cb.String()))
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/#/experiments" || b.cookie(sessionCookie) == "" {
		t.Fatalf("callback: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	sc := resp.Header.Values("Set-Cookie")
	if !strings.Contains(strings.Join(sc, "\n"), sessionCookie+"=v1.") || !regexp.MustCompile(`(?i)__Host-mlg_session=[^;]+; Path=/; Max-Age=\d+; HttpOnly; Secure; SameSite=Lax`).MatchString(strings.Join(sc, "\n")) {
		t.Fatalf("session cookie attributes: %q", sc)
	}
}

func wantDenied(t *testing.T, what string, resp *http.Response, body string, status int, reason string) {
	t.Helper()
	if resp.StatusCode != status || !strings.Contains(resp.Header.Get("X-Mlflow-Guard-Decision"), "reason="+reason) {
		t.Errorf("%s: want %d %s, got %d %q %s", what, status, reason, resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"), body)
	}
	if resp.Header.Get("Location") != "" {
		t.Errorf("%s: a denial with a redirect to %s", what, resp.Header.Get("Location"))
	}
}

func experimentNames(t *testing.T, body string) []string {
	t.Helper()
	var r struct {
		Experiments []struct {
			Name string `json:"name"`
		} `json:"experiments"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("search: %v %s", err, body)
	}
	var out []string
	for _, e := range r.Experiments {
		out = append(out, e.Name)
	}
	return out
}

func upstreamHasExperiment(t *testing.T, h *oidcHarness, name string) bool {
	t.Helper()
	resp, err := http.Get(h.ml.URL + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=" + url.QueryEscape(name))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// TestOIDC shares one MLflow server, provider and gateway between its
// parts (starting MLflow is most of the cost).
func TestOIDC(t *testing.T) {
	h := startOIDCHarness(t)
	t.Run("login", func(t *testing.T) { oidcLogin(t, h) })
	t.Run("callback-negatives", func(t *testing.T) { oidcCallbackNegatives(t, h) })
	t.Run("logout", func(t *testing.T) { oidcLogoutFlows(t, h) })
	t.Run("chromium", func(t *testing.T) { oidcChromium(t, h) })
}

func oidcLogin(t *testing.T, h *oidcHarness) {
	ctx := context.Background()

	// Unauthenticated: a page load goes to the login, an API call gets 401
	// JSON, never a redirect.
	anon := h.newBrowser()
	resp, _ := send(t, anon.raw, anon.nav("GET", h.url+"/"))
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/mlflow-guard/oidc/login?return_to=%2F" {
		t.Errorf("page load: %d %q", resp.StatusCode, loc)
	}
	resp, body := anon.ajax(t, "GET", "/ajax-api/2.0/mlflow/experiments/search?max_results=10", "", nil)
	wantDenied(t, "anonymous ajax", resp, body, 401, "unauthenticated")
	req := anon.nav("GET", h.url+"/api/2.0/mlflow/experiments/search?max_results=10")
	resp, body = send(t, anon.c, req)
	wantDenied(t, "anonymous navigation to an API route", resp, body, 401, "unauthenticated")

	// A full login as user1 (group ml-team from the provider's claim).
	b := h.newBrowser()
	b.login(t, opUser1)
	resp, body = b.ajax(t, "POST", "/ajax-api/2.0/mlflow/experiments/search", `{"max_results":100}`, nil)
	if names := experimentNames(t, body); resp.StatusCode != 200 || strings.Join(names, ",") != "oidc-visible-exp" {
		t.Errorf("user1 sees %v (%d)", names, resp.StatusCode)
	}
	// A same-origin ajax write works; the creator is the OIDC user.
	resp, body = b.ajax(t, "POST", "/ajax-api/2.0/mlflow/experiments/create", `{"name":"oidc-ajax-created"}`, nil)
	if resp.StatusCode != 200 || !upstreamHasExperiment(t, h, "oidc-ajax-created") {
		t.Fatalf("same-origin ajax write: %d %s", resp.StatusCode, body)
	}
	users, err := h.st.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range users {
		if u.Name == user1Name {
			found = true
			if u.Admin {
				t.Errorf("provisioned OIDC user is an admin")
			}
		}
	}
	if !found {
		t.Errorf("user %s not provisioned: %+v", user1Name, users)
	}
	// An OIDC user has no password: Basic with an empty or any password fails.
	req, _ = http.NewRequest("GET", h.url+"/api/2.0/mlflow/experiments/search?max_results=1", nil)
	req.SetBasicAuth(user1Name, "")
	resp, body = send(t, &http.Client{Transport: insecureTransport()}, req)
	wantDenied(t, "Basic for an OIDC user", resp, body, 401, "unauthenticated")

	// CSRF: cookie writes from anywhere but our origin are refused, even
	// from an origin on the CORS list; reads and Basic clients are not.
	for _, c := range []struct {
		name   string
		hdr    map[string]string
		reason string
	}{
		{"CORS-listed origin", map[string]string{"Origin": h.partner, "Sec-Fetch-Site": "same-site"}, "csrf-cross-origin"},
		{"cross-site fetch metadata", map[string]string{"Origin": "", "Sec-Fetch-Site": "cross-site"}, "csrf-cross-origin"},
		{"old browser, foreign origin", map[string]string{"Origin": h.partner, "Sec-Fetch-Site": ""}, "csrf-cross-origin"},
		{"neither header", map[string]string{"Origin": "", "Sec-Fetch-Site": ""}, "csrf-no-origin"},
		{"unlisted foreign origin", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, "origin-not-allowed"},
	} {
		name := "csrf-" + strings.ReplaceAll(c.name, " ", "-")
		resp, body = b.ajax(t, "POST", "/ajax-api/2.0/mlflow/experiments/create", `{"name":"`+name+`"}`, c.hdr)
		wantDenied(t, c.name, resp, body, 403, c.reason)
		if upstreamHasExperiment(t, h, name) {
			t.Errorf("%s: experiment created despite the denial", c.name)
		}
	}
	resp, body = b.ajax(t, "POST", "/ajax-api/2.0/mlflow/experiments/search", `{"max_results":1}`, map[string]string{"Origin": h.url, "Sec-Fetch-Site": ""})
	if resp.StatusCode != 200 {
		t.Errorf("old-browser same-origin write: %d %s", resp.StatusCode, body)
	}
	resp, body = h.basic(t, "POST", "/api/2.0/mlflow/experiments/create", `{"name":"basic-no-origin"}`)
	if resp.StatusCode != 200 {
		t.Errorf("Basic client without Origin: %d %s", resp.StatusCode, body)
	}

	// Tampered session cookie: unauthenticated, cookie cleared.
	good := b.cookie(sessionCookie)
	bad := []byte(good)
	if bad[len(bad)-2] == 'A' {
		bad[len(bad)-2] = 'B'
	} else {
		bad[len(bad)-2] = 'A'
	}
	b.setCookie(sessionCookie, string(bad))
	resp, body = b.ajax(t, "GET", "/ajax-api/2.0/mlflow/experiments/search?max_results=1", "", nil)
	wantDenied(t, "tampered session cookie", resp, body, 401, "unauthenticated")
	if !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), "\n"), sessionCookie+"=; Path=/; Max-Age=0") {
		t.Errorf("tampered cookie not cleared: %q", resp.Header.Values("Set-Cookie"))
	}
	b.setCookie(sessionCookie, good)

	// Sessions live in the store: a restarted gateway (or a second
	// replica) accepts them.
	h.stopGate()
	h.startGateway(t)
	resp, body = b.ajax(t, "GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id="+h.visible, "", nil)
	if resp.StatusCode != 200 {
		t.Errorf("session after restart: %d %s", resp.StatusCode, body)
	}
	resp, body = b.ajax(t, "GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id="+h.hidden, "", nil)
	wantDenied(t, "experiment of another group", resp, body, 403, "")

	// Expired session: past its lifetime the gateway refuses it and a
	// page load goes to the login again.
	h.offset.Store(int64(2 * time.Hour))
	resp, body = b.ajax(t, "GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id="+h.visible, "", nil)
	wantDenied(t, "expired session", resp, body, 401, "unauthenticated")
	b.setCookie(sessionCookie, good)
	resp, _ = send(t, b.raw, b.nav("GET", h.url+"/"))
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/mlflow-guard/oidc/login") {
		t.Errorf("expired session page load: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The clock going back would upset the rate limiter's buckets: a
	// fresh gateway (same store) for the rest.
	h.stopGate()
	h.offset.Store(0)
	h.startGateway(t)

	// Logout: not from another origin; from ours it revokes the session in
	// the store, so the old cookie is dead everywhere.
	b.setCookie(sessionCookie, good)
	resp, body = b.ajax(t, "POST", "/mlflow-guard/oidc/logout", "", map[string]string{"Origin": h.partner, "Sec-Fetch-Site": "same-site"})
	wantDenied(t, "cross-origin logout", resp, body, 403, "csrf-cross-origin")
	resp, body = b.ajax(t, "POST", "/mlflow-guard/oidc/logout", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("logout: %d %s", resp.StatusCode, body)
	}
	b.setCookie(sessionCookie, good)
	resp, body = b.ajax(t, "GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id="+h.visible, "", nil)
	wantDenied(t, "session after logout", resp, body, 401, "unauthenticated")

	// A disabled user's session stops working.
	b2 := h.newBrowser()
	b2.login(t, opUser1)
	if err := h.st.SetDisabled(ctx, "test", user1Name, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the state cache TTL
	resp, body = b2.ajax(t, "GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id="+h.visible, "", nil)
	wantDenied(t, "disabled user's session", resp, body, 401, "unauthenticated")
	if err := h.st.SetDisabled(ctx, "test", user1Name, false); err != nil {
		t.Fatal(err)
	}

	// A local user holding the name the provider asserts is never merged
	// with the OIDC identity.
	if err := h.st.CreateUser(ctx, "test", user2Name, "local password 12", false); err != nil {
		t.Fatal(err)
	}
	b3 := h.newBrowser()
	cb := b3.authorize(t, opUser2)
	resp, body = send(t, b3.c, b3.nav("GET", cb.String()))
	wantDenied(t, "name taken by a local user", resp, body, 403, "oidc-name-taken")
}

func oidcCallbackNegatives(t *testing.T, h *oidcHarness) {
	callback := func(b *browser, u *url.URL) (*http.Response, string) {
		t.Helper()
		return send(t, b.c, b.nav("GET", u.String()))
	}
	noSession := func(what string, b *browser) {
		t.Helper()
		if b.cookie(sessionCookie) != "" {
			t.Errorf("%s: a session cookie was set", what)
		}
	}

	// Bad state.
	b := h.newBrowser()
	cb := b.authorize(t, opUser1)
	q := cb.Query()
	q.Set("state", q.Get("state")+"x")
	bad := *cb
	bad.RawQuery = q.Encode()
	resp, body := callback(b, &bad)
	wantDenied(t, "bad state", resp, body, 403, "oidc-bad-state")
	noSession("bad state", b)

	// No login in progress in this browser (a callback URL sent to a
	// victim, login CSRF).
	b = h.newBrowser()
	other := h.newBrowser()
	cb = other.authorize(t, opUser1)
	resp, body = callback(b, cb)
	wantDenied(t, "foreign callback", resp, body, 403, "oidc-no-flow")
	noSession("foreign callback", b)

	// Tampered flow cookie.
	b = h.newBrowser()
	cb = b.authorize(t, opUser1)
	fc := []byte(b.cookie(flowCookie))
	fc[10] ^= 1
	b.setCookie(flowCookie, string(fc))
	resp, body = callback(b, cb)
	wantDenied(t, "tampered flow cookie", resp, body, 403, "oidc-bad-flow")

	// Replayed code: the first callback logs in; the same callback again
	// (with the same flow cookie) is refused.
	b = h.newBrowser()
	cb = b.authorize(t, opUser1)
	saved := b.cookie(flowCookie)
	resp, body = callback(b, cb)
	if resp.StatusCode != http.StatusFound || b.cookie(sessionCookie) == "" {
		t.Fatalf("first callback: %d %s", resp.StatusCode, body)
	}
	b.setCookie(flowCookie, saved)
	resp, body = callback(b, cb)
	if resp.StatusCode != 403 || !regexp.MustCompile(`reason=oidc-(exchange-failed|replayed)`).MatchString(resp.Header.Get("X-Mlflow-Guard-Decision")) {
		t.Errorf("replayed callback: %d %q %s", resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"), body)
	}

	// reseal rewrites this browser's flow cookie with the gateway's key.
	reseal := func(b *browser, edit func(*flowState)) {
		t.Helper()
		f, err := h.g.oidc.seal.open(b.cookie(flowCookie), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		edit(f)
		v, err := h.g.oidc.seal.seal(*f)
		if err != nil {
			t.Fatal(err)
		}
		b.setCookie(flowCookie, v)
	}

	// Missing PKCE verifier: the provider refuses a code exchanged without
	// one (a stolen code is useless), and a flow without one never starts
	// an exchange.
	b = h.newBrowser()
	cb = b.authorize(t, opUser1)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {h.cb}}
	req, _ := http.NewRequest("POST", h.issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.SetBasicAuth(opClientID, opClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body = send(t, &http.Client{}, req)
	if resp.StatusCode == 200 || strings.Contains(body, "id_token") {
		t.Errorf("provider exchanged a code without the PKCE verifier: %d %s", resp.StatusCode, body)
	}
	reseal(b, func(f *flowState) { f.Verifier = "" })
	resp, body = callback(b, cb)
	wantDenied(t, "flow without verifier", resp, body, 403, "oidc-bad-flow")
	// A wrong verifier: the provider refuses the exchange.
	b = h.newBrowser()
	cb = b.authorize(t, opUser1)
	reseal(b, func(f *flowState) { f.Verifier = strings.Repeat("A", 43) })
	resp, body = callback(b, cb)
	wantDenied(t, "wrong PKCE verifier", resp, body, 403, "oidc-exchange-failed")
	noSession("wrong verifier", b)

	// Wrong nonce: the ID token's nonce is not this login's.
	b = h.newBrowser()
	cb = b.authorize(t, opUser1)
	reseal(b, func(f *flowState) { f.Nonce = randomString(32) })
	resp, body = callback(b, cb)
	wantDenied(t, "wrong nonce", resp, body, 403, "oidc-bad-nonce")
	noSession("wrong nonce", b)

	// An expired flow.
	b = h.newBrowser()
	cb = b.authorize(t, opUser1)
	reseal(b, func(f *flowState) { f.Expires = time.Now().Add(-time.Second).Unix() })
	resp, body = callback(b, cb)
	wantDenied(t, "expired flow", resp, body, 403, "oidc-bad-flow")

	// The provider's error answer.
	b = h.newBrowser()
	cb = b.authorize(t, opUser1)
	q = url.Values{"state": {cb.Query().Get("state")}, "error": {"access_denied"}}
	resp, body = callback(b, &url.URL{Scheme: cb.Scheme, Host: cb.Host, Path: cb.Path, RawQuery: q.Encode()})
	wantDenied(t, "provider error", resp, body, 403, "oidc-provider-error")

	// An open redirect through return_to is not possible.
	for _, rt := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example"} {
		b = h.newBrowser()
		if resp, _ = send(t, b.raw, b.nav("GET", h.url+"/mlflow-guard/oidc/login?return_to="+url.QueryEscape(rt))); resp.StatusCode != http.StatusFound {
			t.Errorf("login with return_to %q: %d", rt, resp.StatusCode)
		}
		f, err := h.g.oidc.seal.open(b.cookie(flowCookie), time.Now())
		if err != nil || f.ReturnTo != "/" {
			t.Errorf("return_to %q kept as %+v (%v)", rt, f, err)
		}
	}

	// The flow cookie's attributes: __Host- needs Secure and Path=/.
	b = h.newBrowser()
	resp, _ = send(t, b.raw, b.nav("GET", h.url+"/mlflow-guard/oidc/login"))
	if sc := strings.Join(resp.Header.Values("Set-Cookie"), "\n"); !regexp.MustCompile(`__Host-mlg_oidc_flow=v1\.[^;]+; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax`).MatchString(sc) {
		t.Errorf("flow cookie attributes: %q", sc)
	}
	if loc, _ := resp.Location(); loc == nil || loc.Query().Get("code_challenge_method") != "S256" || loc.Query().Get("code_challenge") == "" ||
		loc.Query().Get("nonce") == "" || loc.Query().Get("state") == "" {
		t.Errorf("authorization request lacks PKCE, nonce or state: %v", loc)
	}
}
