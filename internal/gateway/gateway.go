// Package gateway is mlflow-guard serve: a reverse proxy in front of an
// unmodified MLflow server that authenticates every caller, authorizes
// every route from a table, audits writes and denials, and fails closed.
package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// Config is everything serve needs beyond the store.
type Config struct {
	Upstream       *url.URL
	AllowedHosts   []string     // Host header names accepted (DNS rebinding)
	CORSOrigins    []string     // origins allowed cross-origin
	TrustedProxies []*net.IPNet // peers whose X-Forwarded-For is believed
	TLS            bool         // served over TLS (HSTS, X-Forwarded-Proto)
	MaxAPIBody     int64        // JSON API bodies (buffered)
	MaxArtifact    int64        // artifact uploads (streamed); 0: no limit
	RatePerSecond  float64      // per identity and per IP
	RateBurst      int
	LoginFailLimit int
	LoginWindow    time.Duration
	LoginLockout   time.Duration
	// StateCacheTTL bounds how long a verified token, a user's admin flag
	// and groups, and a permission are reused without asking the store
	// (default 5s; negative: never cached). Revocations, disables and grant
	// removals take effect within it.
	StateCacheTTL time.Duration
	// BodyIdleTimeout ends a request whose body sends nothing for this long
	// (slow-drip clients); a long transfer that keeps moving is never cut.
	// Default 60s.
	BodyIdleTimeout time.Duration
	// Policy judges every request after authorization (secrets, artifact
	// paths and locations, SSRF, custom rules). Nil: the defaults, every
	// policy on in deny mode.
	Policy *policy.Engine
	// NoPolicy turns the request policies off (serve --no-policy): the
	// gateway still authenticates, authorizes and audits, but judges no
	// body, path or location. For measuring the bare gateway, and for an
	// operator who must rule the policies out while debugging.
	NoPolicy bool
	// SignedURLTTL is the lifetime of signed artifact links (MLG305);
	// 0: one hour, the maximum.
	SignedURLTTL time.Duration
	// OIDC, when set, logs browsers in to the MLflow UI (oidc.go).
	OIDC *OIDCConfig
	// Approvals: protected stages and aliases, the signing key, the
	// approval lifetime (approvals*.go).
	Approvals ApprovalConfig
}

// Defaults fills unset limits.
func (c *Config) Defaults() {
	if c.MaxAPIBody == 0 {
		c.MaxAPIBody = 16 << 20
	}
	if c.RatePerSecond == 0 {
		c.RatePerSecond = 200
	}
	if c.RateBurst == 0 {
		c.RateBurst = 400
	}
	if c.LoginFailLimit == 0 {
		c.LoginFailLimit = 10
	}
	if c.LoginWindow == 0 {
		c.LoginWindow = 15 * time.Minute
	}
	if c.LoginLockout == 0 {
		c.LoginLockout = 15 * time.Minute
	}
	if c.BodyIdleTimeout == 0 {
		c.BodyIdleTimeout = time.Minute
	}
	if c.StateCacheTTL == 0 {
		c.StateCacheTTL = 5 * time.Second
	}
}

// Gateway is the HTTP handler.
type Gateway struct {
	cfg      Config
	store    *store.Store
	log      *slog.Logger
	router   *Router
	proxy    *httputil.ReverseProxy
	resolve  *resolver
	creds    *credCache
	throttle *throttle
	limiter  *limiter
	Metrics  *Metrics
	now      func() time.Time
	users    *ttlCache[*store.User]      // token hash or "user:NAME" -> user
	perms    *ttlCache[store.Permission] // user|kind|id -> permission
	policy   *policy.Engine
	signer   *policy.Signer
	oidc     *oidcAuth // nil: no browser login
	dg       *datagate // registration gate and upload scanning (gate.go, upload.go)
}

// New builds the gateway.
func New(cfg Config, st *store.Store, log *slog.Logger) (*Gateway, error) {
	cfg.Defaults()
	if err := cfg.Approvals.defaults(); err != nil {
		return nil, fmt.Errorf("approvals: %w", err)
	}
	if cfg.Upstream == nil || (cfg.Upstream.Scheme != "http" && cfg.Upstream.Scheme != "https") || cfg.Upstream.Host == "" {
		return nil, errors.New("upstream must be an http:// or https:// URL")
	}
	rt, err := NewRouter(Table())
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.ResponseHeaderTimeout = 0 // long artifact downloads start slowly
	// Large buffers: artifact bodies stream through in fewer syscalls.
	tr.WriteBufferSize = 256 << 10
	tr.ReadBufferSize = 256 << 10
	pool := newBufferPool()
	tr.DialContext = bigCopyDialer(tr.DialContext, pool)
	g := &Gateway{
		cfg: cfg, store: st, log: log, router: rt, now: time.Now,
		creds:    &credCache{key: st.Key(), ttl: time.Minute, max: 10000, m: map[string]credEntry{}},
		throttle: newThrottle(cfg.LoginFailLimit, cfg.LoginWindow, cfg.LoginLockout),
		limiter:  newLimiter(cfg.RatePerSecond, cfg.RateBurst),
		Metrics:  newMetrics(),
		users:    newTTLCache[*store.User](cfg.StateCacheTTL, 10000),
		perms:    newTTLCache[store.Permission](cfg.StateCacheTTL, 100000),
		dg:       newDatagate(log),
	}
	g.policy = cfg.Policy
	if cfg.NoPolicy {
		if cfg.Policy != nil {
			return nil, errors.New("a policy engine and NoPolicy together")
		}
		log.Warn("request policies are off (--no-policy): secrets, artifact paths and locations are not checked")
	} else if g.policy == nil {
		if g.policy, err = policy.New(policy.Config{}, policy.WithLogger(log)); err != nil {
			return nil, fmt.Errorf("default policies: %w", err)
		}
	}
	if g.signer, err = newSigner(st.Key(), cfg.SignedURLTTL, func() time.Time { return g.now() }); err != nil {
		return nil, err
	}
	if cfg.OIDC != nil {
		if g.oidc, err = newOIDC(*cfg.OIDC, st.Key(), cfg.StateCacheTTL); err != nil {
			return nil, fmt.Errorf("oidc: %w", err)
		}
	}
	g.resolve = &resolver{upstream: cfg.Upstream, client: &http.Client{Transport: tr, Timeout: 5 * time.Second},
		ttl: time.Minute, max: 10000, now: time.Now, cache: map[string]cacheEntry{}}
	g.proxy = &httputil.ReverseProxy{
		Rewrite:        g.rewrite,
		Transport:      tr,
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.proxyError,
		BufferPool:     pool,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return g, nil
}

// identityHeaders are never taken from a client nor passed upstream.
var identityHeaders = []string{
	"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Preferred-Username", "X-Forwarded-Groups",
	"X-Remote-User", "X-Remote-Email", "X-Remote-Groups", "Remote-User", "X-User", "X-Email",
	"X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups", "X-Auth-Request-Preferred-Username",
	"X-Webauth-User", "X-Authenticated-User", "X-Mlflow-Guard-User",
}

// reqState travels with a request from the handler to the response hooks.
type reqState struct {
	id       string
	ip       string
	identity *Identity
	route    *compiled
	body     []byte
	parsed   *policy.Parsed // body as read for authorization, reused by the policies
	buffered bool           // the forwarded body is st.body (bufferedBody)
	decision string
	rule     string
	findings string // policy findings for the audit log (keys and detectors, never values)
	// promotion is set when the request changes a protected target; the
	// gateway then forwards it itself and consumes the approval.
	promotion *promotion
	gate      *gateResult // registration gate verdict, tagged after the upstream create
	upload    *uploadScan // upload scanning state (upload.go)
	// extraNeeds are permissions found outside the route's Checks
	// (GraphQL fields); gqlFilters trim the GraphQL answer.
	extraNeeds []need
	gqlFilters []gqlFilter
}

type stateKey struct{}

func stateOf(r *http.Request) *reqState {
	s, _ := r.Context().Value(stateKey{}).(*reqState)
	return s
}

func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	st := stateOf(pr.In)
	pr.SetURL(g.cfg.Upstream)
	pr.Out.Host = g.cfg.Upstream.Host
	for _, h := range identityHeaders {
		delete(pr.Out.Header, h) // canonical already (TestIdentityHeadersCanonical): Del without the re-canonicalizing
	}
	// The upstream has no authentication; the caller's credentials stay here.
	pr.Out.Header.Del("Authorization")
	pr.Out.Header.Del("Proxy-Authorization")
	pr.Out.Header.Set("X-Forwarded-For", st.ip)
	pr.Out.Header.Set("X-Forwarded-Host", pr.In.Host)
	proto := "http"
	if g.cfg.TLS {
		proto = "https"
	}
	pr.Out.Header.Set("X-Forwarded-Proto", proto)
	pr.Out.Header.Set("X-Request-Id", st.id)
	bufferedBody(pr, st)
	if st.route != nil && (st.route.Hook != NoHook || st.gate != nil) {
		// The transport then asks for gzip itself and decodes it, so the
		// hooks read plain JSON.
		pr.Out.Header.Del("Accept-Encoding")
	}
}

func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r)
	g.log.Warn("upstream error", "request_id", st.id, "path", r.URL.Path, "err", err)
	if errors.Is(err, errHookDenied) {
		return // the hook already answered
	}
	if st.upload != nil && st.upload.denial != nil {
		g.deny(w, r, st, st.upload.denial) // the upload scan refused it; the upstream never got the whole body
		return
	}
	var he *hookError
	if errors.As(err, &he) {
		he.d.write(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = io.WriteString(w, `{"error_code":"TEMPORARILY_UNAVAILABLE","message":"mlflow-guard: upstream MLflow server unavailable"}`+"\n")
}

// clientIP is the peer address, or, when the peer is a trusted proxy, the
// right-most X-Forwarded-For address that is not itself trusted.
func (g *Gateway) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !g.trusted(host) {
		return host
	}
	xff := r.Header.Values("X-Forwarded-For")
	var hops []string
	for _, v := range xff {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				hops = append(hops, p)
			}
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		if net.ParseIP(hops[i]) == nil {
			return host // garbage: fall back to the peer
		}
		if !g.trusted(hops[i]) {
			return hops[i]
		}
	}
	return host
}

func (g *Gateway) trusted(ip string) bool {
	a := net.ParseIP(ip)
	if a == nil {
		return false
	}
	for _, n := range g.cfg.TrustedProxies {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// ServeHTTP is the whole request path: hygiene, authentication, route,
// parse, authorize, audit, forward.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.now()
	st := &reqState{id: newRequestID(), ip: g.clientIP(r)}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	rec := &recorder{ResponseWriter: w, status: 0}
	g.securityHeaders(rec.Header())
	rec.Header().Set("X-Request-Id", st.id)
	defer func() {
		if rec.status >= http.StatusOK {
			rec.Flush() // the client has its answer before the bookkeeping below (never on a switched protocol)
		}
		user := ""
		if st.identity != nil {
			user = st.identity.User.Name
		}
		if st.decision == "" {
			st.decision = "allow"
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		took := g.now().Sub(start)
		g.Metrics.observe(st.decision, status, took)
		g.logRequest(r, st, status, rec.bytes, took, user)
	}()
	if d := g.handle(rec, r, st); d != nil {
		g.deny(rec, r, st, d)
	}
}

// handle returns a denial, or nil once it has answered (health) or
// forwarded the request.
func (g *Gateway) handle(w http.ResponseWriter, r *http.Request, st *reqState) *Denial {
	if !g.hostAllowed(r.Host) {
		return denyHygiene(http.StatusForbidden, "host-not-allowed", fmt.Sprintf("Host %q is not served here", r.Host))
	}
	switch r.URL.Path {
	case approvalKeyPath:
		return g.serveApprovalKey(w, r)
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
		return nil
	case "/readyz":
		g.ready(w, r)
		return nil
	}
	if d := g.cors(w, r); d != nil || r.Method == http.MethodOptions {
		if d == nil && r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
		}
		return d
	}
	if d := checkRawPath(r); d != nil {
		return d
	}
	if !g.limiter.allow("ip:"+st.ip, g.now()) {
		return denyHygiene(http.StatusTooManyRequests, "rate-limited", "too many requests from this address")
	}
	if g.oidc != nil {
		if d, ok := g.handleOIDC(w, r, st); ok {
			return d
		}
	}
	var id *Identity
	var err error
	if isSignedRequest(r) {
		var d *Denial
		if id, d = g.signedIdentity(r.Context(), r); d != nil {
			return d
		}
	} else {
		id, err = g.authenticate(r.Context(), r.Header.Get("Authorization"), st.ip)
	}
	if id == nil && err == nil && g.oidc != nil && r.Header.Get("Authorization") == "" && !isSignedRequest(r) {
		var d *Denial
		if id, d = g.sessionAuth(w, r, st); d != nil || id == nil && st.decision == "login-redirect" {
			return d
		}
	}
	switch {
	case errors.Is(err, errLocked):
		return &Denial{http.StatusTooManyRequests, "UNAUTHENTICATED", "MLG401", "login-locked", "too many failed logins; try again later"}
	case errors.Is(err, store.ErrBadCredentials):
		return denyUnauthenticated("invalid credentials")
	case err != nil:
		g.log.Error("authentication backend failed", "request_id", st.id, "err", err)
		return denyUnavailable("store-unavailable", "the gateway could not check credentials; try again")
	case id == nil:
		return denyUnauthenticated("authentication required: set MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN")
	}
	st.identity = id
	if !g.limiter.allow("user:"+id.User.Name, g.now()) {
		return denyHygiene(http.StatusTooManyRequests, "rate-limited", "too many requests for this identity")
	}
	if r.URL.Path == signedURLRoute {
		return g.issueSigned(w, r, st)
	}
	if isApprovalsPath(r.URL.Path) {
		return g.serveApprovals(w, r, st)
	}
	rt, vars := g.router.Match(r.Method, r.URL.Path)
	if rt == nil {
		return denyForbidden("unknown-route", fmt.Sprintf("%s %s is not a route mlflow-guard knows; denied", r.Method, r.URL.Path))
	}
	st.route = rt
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &idleReader{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: g.cfg.BodyIdleTimeout}
	}
	if rt.Kind == KindAdmin && !id.User.Admin {
		return denyForbidden("admin-only", fmt.Sprintf("%s %s is for administrators (%s)", r.Method, rt.Pattern, rt.Note))
	}
	var msg *Message
	if rt.Class == ClassAPI {
		body, d := g.readBody(r)
		if d != nil {
			return d
		}
		st.body = body
		if rt.Kind == KindGraphQL {
			// MLflow reads /graphql from the JSON body whatever the method.
			if d := g.planGraphQLRequest(r.Context(), r, st); d != nil {
				return d
			}
			msg = &Message{Body: map[string]any{}}
		} else if msg, st.parsed, err = parseMessageShared(r.Method, r.URL.RawQuery, body); err != nil {
			return denyForbidden("ambiguous-request", fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
		}
		if rt.Hook == SetRunUser {
			if body, err = setRunUser(msg, id.User.Name); err != nil {
				return denyForbidden("ambiguous-request", err.Error())
			}
			st.body = body
		}
		if d := guardUserTag(rt, msg, id.User.Name); d != nil { // usertag.go
			return d
		}
		if rt.Pattern == v2+"experiments/create" || rt.Pattern == "/ajax-api/2.0/mlflow/experiments/create" {
			if v, _ := msg.Values("artifact_location", false); len(v) > 0 && !id.User.Admin {
				return denyForbidden("artifact-location", "only administrators may choose an experiment's artifact_location")
			}
		}
	} else {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
				return denyForbidden("ambiguous-request", "a GET with a body on a streamed route")
			}
		}
		if g.cfg.MaxArtifact > 0 {
			if r.ContentLength > g.cfg.MaxArtifact {
				return denyHygiene(http.StatusRequestEntityTooLarge, "body-too-large", "artifact larger than the gateway's limit")
			}
			r.Body = http.MaxBytesReader(w, r.Body, g.cfg.MaxArtifact)
		}
		if r.URL.RawQuery != "" {
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				return denyForbidden("ambiguous-request", fmt.Sprintf("query string: %v", err))
			}
			msg = &Message{FromQuery: true, Query: q}
		} else {
			msg = &Message{Body: map[string]any{}}
		}
	}
	needs, d := g.extract(r.Context(), rt, vars, r, msg, id.User.Admin)
	if d != nil {
		return d
	}
	needs = append(needs, st.extraNeeds...)
	if d := g.decide(r.Context(), id, needs); d != nil {
		return d
	}
	// Reserved tags and protected targets (approvals_guard.go); may set
	// st.promotion and rewrite st.body, so it runs before the policies.
	if d := g.guardRegistry(r.Context(), r, st, rt, vars, msg); d != nil {
		return d
	}
	if d := g.applyPolicy(r.Context(), r, st, needs); d != nil {
		return d
	}
	if d := g.checkOTLP(r, st); d != nil { // otlp.go
		return d
	}
	if d := g.dataGates(w, r, st, msg); d != nil {
		return d
	}
	if sb, ok := r.Body.(*scanBody); ok {
		// Since Go 1.26 ReverseProxy no longer closes the inbound body, and
		// Close is what stops the spooler and removes the spool directory.
		defer sb.Close()
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		var res []string
		for _, n := range needs {
			res = append(res, string(n.kind)+":"+n.id)
		}
		if err := g.store.Audit(r.Context(), store.Event{Actor: id.User.Name, Action: "forward", Route: r.Method + " " + rt.Pattern,
			Resource: strings.Join(res, ","), Decision: "allow", RequestID: st.id, Detail: withFindings("ip="+st.ip, st.findings)}); err != nil {
			g.log.Error("audit write failed", "request_id", st.id, "err", err)
			return denyUnavailable("audit-unavailable", "the gateway could not record this write; not forwarded")
		}
	}
	if st.body != nil || rt.Class == ClassAPI {
		st.buffered = true
		r.Body = io.NopCloser(bytes.NewReader(st.body))
		r.ContentLength = int64(len(st.body))
		r.Header.Del("Transfer-Encoding")
		r.TransferEncoding = nil
		r.Header.Set("Content-Length", strconv.Itoa(len(st.body)))
	}
	st.decision = "allow"
	if st.promotion != nil {
		return g.forwardPromotion(w, r, st)
	}
	g.proxy.ServeHTTP(w, r)
	return nil
}

// checkRawPath refuses encoded slashes, backslashes and dot segments: the
// route is matched on the decoded path and the upstream must see the same.
func checkRawPath(r *http.Request) *Denial {
	raw := strings.ToLower(r.URL.EscapedPath())
	p := r.URL.Path
	bad := strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") || strings.Contains(raw, "%2e") || strings.Contains(raw, "%00") ||
		strings.Contains(p, "\\") || strings.Contains(p, "//") || !strings.HasPrefix(p, "/")
	for s := range strings.SplitSeq(p, "/") {
		if s == "." || s == ".." {
			bad = true
		}
	}
	if bad {
		return denyForbidden("path-not-canonical", fmt.Sprintf("path %q is not in canonical form", r.URL.EscapedPath()))
	}
	return checkCanonical(r)
}

func (g *Gateway) readBody(r *http.Request) ([]byte, *Denial) {
	if r.ContentLength > g.cfg.MaxAPIBody {
		return nil, denyHygiene(http.StatusRequestEntityTooLarge, "body-too-large", fmt.Sprintf("API body over %d bytes", g.cfg.MaxAPIBody))
	}
	b, err := readAllSized(r.Body, r.ContentLength, g.cfg.MaxAPIBody+1)
	if err != nil {
		return nil, denyForbidden("body-unreadable", "could not read the request body")
	}
	if int64(len(b)) > g.cfg.MaxAPIBody {
		return nil, denyHygiene(http.StatusRequestEntityTooLarge, "body-too-large", fmt.Sprintf("API body over %d bytes", g.cfg.MaxAPIBody))
	}
	return b, nil
}

// deny answers a denial and records it in the audit log.
func (g *Gateway) deny(w http.ResponseWriter, r *http.Request, st *reqState, d *Denial) {
	st.decision, st.rule = "deny", d.Rule
	actor := ""
	if st.identity != nil {
		actor = st.identity.User.Name
	}
	route := r.Method + " " + r.URL.Path
	if st.route != nil {
		route = r.Method + " " + st.route.Pattern
	}
	if err := g.store.Audit(r.Context(), store.Event{Actor: actor, Action: "deny", Route: route, Decision: "deny",
		Rule: d.Rule, RequestID: st.id, Detail: withFindings(d.Reason+": "+truncate(d.Msg, 300)+" ip="+st.ip, st.findings)}); err != nil {
		g.log.Error("audit write failed for a denial", "request_id", st.id, "err", err)
	}
	d.write(w)
}

func withFindings(detail, findings string) string {
	if findings == "" {
		return detail
	}
	return detail + " findings: " + findings
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func (g *Gateway) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	var problems []string
	if err := g.store.Ping(ctx); err != nil {
		problems = append(problems, "store: "+err.Error())
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.cfg.Upstream.String()+"/health", nil)
	if resp, err := g.resolve.client.Do(req); err != nil {
		problems = append(problems, "upstream: unreachable")
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			problems = append(problems, fmt.Sprintf("upstream: /health answered %d", resp.StatusCode))
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, strings.Join(problems, "\n")+"\n")
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// recorder notes status and size; Unwrap lets http.ResponseController
// and the proxy's flushing reach the real writer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// idleReader pushes the connection's read deadline forward before each
// read of the body: a body that stalls for the idle time fails, one that
// keeps moving may take as long as it needs.
type idleReader struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	_ = r.rc.SetReadDeadline(time.Now().Add(r.idle))
	n, err := r.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		// Body done: lift the deadline, or the server's background read
		// would cancel the request while the upstream is still answering.
		_ = r.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
