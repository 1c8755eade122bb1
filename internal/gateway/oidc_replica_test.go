package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// Two gateway replicas with one OIDC client configuration on one real
// PostgreSQL, as behind a load balancer: a browser session made on A
// works on B for reads and (same-origin) writes; a login started on A
// finishes on B (the flow state is a sealed cookie under the shared
// server key, its one-time use is in the shared store); logging out
// through B, RP-initiated or back-channel, ends the session on A too.
func TestOIDCTwoReplicasOnPostgres(t *testing.T) {
	testenv.SkipIfShort(t, "MLflow, PostgreSQL, an OIDC provider and two gateways")
	ml := testenv.LaunchMLflow(t, testenv.MLflowOptions{})
	pg := testenv.StartPostgres(t)
	dsn := pg.CreateDB(t, "guard")
	ml.Wait(t)
	ctx := context.Background()
	cert, key := writeTestCert(t)
	urls := []string{fmt.Sprintf("https://127.0.0.1:%d", testenv.FreePort(t)), fmt.Sprintf("https://127.0.0.1:%d", testenv.FreePort(t))}
	// One client configuration: the callback is A's address (the load
	// balancer's name in a real deployment); which replica a callback
	// reaches is the test's choice below.
	cb := urls[0] + "/mlflow-guard/oidc/callback"
	issuer, op := startOPStorage(t, cb)
	up, _ := url.Parse(ml.URL)
	cacheTTL := 200 * time.Millisecond
	cfg := Config{Upstream: up, TLS: true, LoginFailLimit: 1000, StateCacheTTL: cacheTTL,
		OIDC: &OIDCConfig{Issuer: issuer, ClientID: opClientID, ClientSecret: opClientSecret, RedirectURL: cb, SessionTTL: time.Hour}}
	var hs []*oidcHarness
	for _, u := range urls {
		st, err := store.Open(ctx, store.Options{DatabaseURL: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		h := &oidcHarness{url: u, cb: cb, issuer: issuer, op: op, ml: ml, st: st, offset: &atomic.Int64{}, rootPW: "root password 12",
			cfg: cfg, listen: strings.TrimPrefix(u, "https://"), cert: cert, key: key, top: t}
		h.startGateway(t)
		hs = append(hs, h)
	}
	a, b := hs[0], hs[1]
	if err := a.st.CreateUser(ctx, "test", "root", a.rootPW, true); err != nil {
		t.Fatal(err)
	}
	expID := b.createExperiment(t, "replica-oidc-exp") // root's Basic login through B, user made through A's store
	if err := b.st.AddGrant(ctx, "test", store.Grant{Principal: store.Principal{Kind: "group", Name: "ml-team"}, ResourceKind: "experiment",
		ResourceID: expID, Permission: store.Edit}, nil); err != nil {
		t.Fatal(err)
	}
	// on gives the same browser (one cookie jar: cookies are per host, not
	// per port) pointed at replica h.
	on := func(br *browser, h *oidcHarness) *browser { c := *br; c.h = h; return &c }

	// Login through A, used on B: a read and a same-origin write work; a
	// cross-site write with the cookie is refused there too.
	onA := a.newBrowser()
	onA.login(t, opUser1)
	onB := on(onA, b)
	if !onB.works(t, expID) {
		t.Fatal("A's session does not work on B")
	}
	resp, body := onB.ajax(t, "POST", "/ajax-api/2.0/mlflow/runs/create", `{"experiment_id":"`+expID+`"}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"run_id"`) {
		t.Fatalf("same-origin write on B with A's session: %d %s", resp.StatusCode, body)
	}
	resp, body = onB.ajax(t, "POST", "/ajax-api/2.0/mlflow/experiments/create", `{"name":"replica-csrf"}`,
		map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != 403 || upstreamHasExperiment(t, b, "replica-csrf") {
		t.Errorf("cross-site write on B with A's session: %d %s", resp.StatusCode, body)
	}
	resp, body = onB.ajax(t, "POST", "/ajax-api/2.0/mlflow/experiments/create", `{"name":"replica-no-origin"}`, map[string]string{"Origin": "", "Sec-Fetch-Site": ""})
	wantDenied(t, "write on B without Origin", resp, body, 403, "csrf-no-origin")
	if !onA.works(t, expID) { // A now holds the session in its cache too
		t.Fatal("session stopped working on A")
	}

	// RP-initiated logout through B: ends the session on A as well, at
	// the latest when A's cached copy expires (StateCacheTTL).
	dead := onB.cookie(sessionCookie)
	req := onB.nav("GET", b.url+"/mlflow-guard/logout")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, _ = send(t, onB.raw, req)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, issuer+"/end_session?") {
		t.Fatalf("RP-initiated logout on B: %d %q", resp.StatusCode, loc)
	}
	onB.setCookie(sessionCookie, dead)
	if onB.works(t, expID) {
		t.Errorf("session works on B right after logging out there")
	}
	time.Sleep(cacheTTL + 50*time.Millisecond)
	if onA.works(t, expID) {
		t.Errorf("session logged out on B still works on A after %s", cacheTTL)
	}

	// A login started on A, finished (callback) on B.
	br := a.newBrowser()
	cbURL := br.authorize(t, opUser1)
	flow := br.cookie(flowCookie)
	cbURL.Host = strings.TrimPrefix(b.url, "https://")
	resp, body = send(t, br.c, br.nav("GET", cbURL.String()))
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/#/experiments" || br.cookie(sessionCookie) == "" {
		t.Fatalf("callback on B of a login started on A: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if !br.works(t, expID) || !on(br, b).works(t, expID) {
		t.Fatal("the session made on B does not work on both replicas")
	}
	// The same callback replayed on A (flow cookie put back): refused.
	replay := a.newBrowser()
	replay.setCookie(flowCookie, flow)
	cbURL.Host = strings.TrimPrefix(a.url, "https://")
	resp, body = send(t, replay.c, replay.nav("GET", cbURL.String()))
	if resp.StatusCode != 403 || replay.cookie(sessionCookie) != "" {
		t.Errorf("callback replayed on A: %d %q %s", resp.StatusCode, resp.Header.Get("X-Mlflow-Guard-Decision"), body)
	}

	// Back-channel logout through B ends it on A.
	if !br.works(t, expID) { // cached on A
		t.Fatal("session stopped working on A")
	}
	sid := op.lastSID("id1")
	tok := a.providerLogoutToken(t, "id1", sid)
	if resp, body = sendLogoutToken(t, b.url, tok); resp.StatusCode != 200 {
		t.Fatalf("back-channel logout on B: %d %s", resp.StatusCode, body)
	}
	if on(br, b).works(t, expID) {
		t.Errorf("session works on B right after its back-channel logout there")
	}
	time.Sleep(cacheTTL + 50*time.Millisecond)
	if br.works(t, expID) {
		t.Errorf("session logged out by back-channel on B still works on A after %s", cacheTTL)
	}
	// The token replayed to the other replica: its jti is in the shared store.
	if resp, body = sendLogoutToken(t, a.url, tok); resp.StatusCode != 400 || !strings.Contains(body, "already used") {
		t.Errorf("logout token replayed on A: %d %s", resp.StatusCode, body)
	}
	if n, probs, err := a.st.VerifyAudit(ctx); err != nil || len(probs) > 0 || n == 0 {
		t.Errorf("audit chain: %d %v %v", n, probs, err)
	}
}
